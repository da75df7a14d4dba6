/** The HTML report of a run: its data, computed from a history, and the files that show it. */
export * from './data/types.js';
