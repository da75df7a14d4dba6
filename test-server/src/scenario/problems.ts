/** How the loader reports a mistake in a scenario file: where it is, which field, what was expected. */
export interface ScenarioProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the field, e.g. steps[3].within. */
  field: string;
  message: string;
}

export class ScenarioLoadError extends Error {
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ScenarioLoadError';
  }
}

export function formatProblem(p: ScenarioProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** A problem with the file as a whole (it cannot be read, it is not text...), at line 1 unless told. */
export function fileProblem(file: string, message: string, line = 1, column = 1): ScenarioProblem {
  return {file, line, column, field: '', message};
}
