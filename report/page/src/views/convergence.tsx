/**
 * Convergence against the model: for each change of the membership, how
 * fast the live observers came to reflect it, next to the epidemic model's
 * curve for the same N and timing, and how many distinct views there were
 * meanwhile. A summary chart on the run's time axis puts every change's
 * time to converge next to the model's.
 */
import {useMemo, useState} from 'preact/hooks';
import uPlot from 'uplot';
import type {ConvergenceChange, FaultBand} from '../../../src/data/types.js';
import type {ViewProps} from '../view-props.js';
import {changeSeries, completionLabel} from './convergence/series.js';
import {fmtAt, fmtDur, plural} from './common/format.js';
import {Bar, LinkButton, Muted, Notice, Swatch, red} from './common/ui.js';
import {onRunTime, TimeChart} from './common/uplot-chart.js';

const maxCharts = 12;
const colors = {fraction: '#1f5f99', model: '#555', views: '#e07b00', took: '#1f5f99'};

function changeEnd(data: ViewProps['data'], i: number): number {
  const c = data.convergence[i]!;
  return c.completeAt ?? data.convergence[i + 1]?.t ?? data.meta.end;
}

export function ConvergenceView(props: ViewProps) {
  const {data, window: win} = props;
  const [all, setAll] = useState(false);
  const changes = data.convergence;
  const shown = useMemo(() => {
    const idx: number[] = [];
    changes.forEach((c, i) => {
      if (all || (c.t <= win.to && changeEnd(data, i) >= win.from)) idx.push(i);
    });
    return idx;
  }, [data, all, win.from, win.to]);

  if (changes.length === 0) {
    return (
      <div class="view-convergence">
        <Notice tone="info">No membership change in this run (no join, kill, leave, heal, restart, pause or resume): nothing to converge on.</Notice>
      </div>
    );
  }
  const never = changes.filter((c) => c.completeAt === undefined).length;
  const slow = changes.filter((c) => c.completeAt !== undefined && c.model && (c.completeAt - c.t) / Math.max(1, c.model.ms) > 2).length;
  return (
    <div class="view-convergence">
      <Bar>
        <span>
          {plural(changes.length, 'change')}
          {never > 0 && <b style={{color: red}}>, {never} never complete</b>}
          {slow > 0 && <b style={{color: red}}>, {slow} more than 2x slower than the model</b>}
        </span>
        <Swatch color={colors.fraction} label="fraction of live observers reflecting it" shape="line" />
        <Swatch color={colors.model} label="model" shape="dash" />
        <Swatch color={colors.views} label="distinct views (right axis)" shape="line" />
        <Muted>vertical lines: complete (solid), the model's time (dashed)</Muted>
      </Bar>
      <Summary {...props} />
      {shown.length === 0 ? (
        <Notice tone="info">
          No change in this window ({fmtAt(win.from)} – {fmtAt(win.to)}). <LinkButton onClick={() => setAll(true)}>show all {changes.length}</LinkButton>
        </Notice>
      ) : (
        <>
          {(shown.length > maxCharts || all) && (
            <Notice tone={shown.length > maxCharts ? 'warn' : 'info'}>
              {shown.length > maxCharts
                ? `Showing the first ${maxCharts} of ${shown.length} changes ${all ? 'of the run' : 'in this window'}; brush a narrower window to see the others.`
                : `Showing all ${changes.length} changes of the run, not only the window's.`}{' '}
              <LinkButton onClick={() => setAll(!all)}>{all ? 'only the window' : 'show all'}</LinkButton>
            </Notice>
          )}
          <div style={{display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(340px, 1fr))', gap: '10px'}}>
            {shown.slice(0, maxCharts).map((i) => (
              <ChangeChart key={i} change={changes[i]!} {...props} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}

/** Every change's time to converge and the model's, at the change's time on the run's axis. */
function Summary(props: ViewProps) {
  const {data} = props;
  const d = useMemo((): uPlot.AlignedData => {
    const cs = [...data.convergence].sort((a, b) => a.t - b.t);
    return [
      cs.map((c) => c.t),
      cs.map((c) => (c.completeAt !== undefined ? c.completeAt - c.t : null)),
      cs.map((c) => c.model?.ms ?? null),
      cs.map((c) => (c.completeAt === undefined ? (data.convergence[data.convergence.indexOf(c) + 1]?.t ?? data.meta.end) - c.t : null)),
    ];
  }, [data]);
  const points = (color: string, size: number, label: string, fill = color): uPlot.Series => ({
    label,
    stroke: color,
    fill,
    paths: () => null,
    points: {show: true, size, stroke: color, fill},
    value: (_u, v) => (v == null ? '–' : fmtDur(v)),
  });
  return (
    <div>
      <Muted>Time to converge per change (•), the model's (○), never converged (✕ red: time until the next change); click sets the cursor, drag sets the window.</Muted>
      <TimeChart
        shape="summary"
        data={d}
        height={150}
        series={[points(colors.took, 7, 'took'), points(colors.model, 8, 'model', '#fff'), points(red, 9, 'never, waited')]}
        axes={[{values: (_u, vals) => vals.map((v) => fmtDur(v)), size: 60}]}
        scales={{y: {range: (_u, _min, max) => [0, Math.max(1, max) * 1.1]}}}
        {...onRunTime(props)}
      />
    </div>
  );
}

function shiftBands(faults: FaultBand[], by: number, end: number): FaultBand[] {
  return faults.map((f) => ({...f, from: f.from - by, to: (f.to ?? end) - by}));
}

function ChangeChart(props: ViewProps & {change: ConvergenceChange}) {
  const {change: c, data} = props;
  const s = useMemo(() => changeSeries(c), [c]);
  const bands = useMemo(() => shiftBands(data.timeline.faults, c.t, data.meta.end), [data, c]);
  const label = c.n === 0 ? {text: 'no other live observer: nothing to spread', bad: false} : completionLabel(s, fmtDur);
  const stepped = uPlot.paths.stepped!({align: 1});
  return (
    <div style={{border: '1px solid #ddd', borderRadius: '4px', padding: '4px 6px', background: '#fff'}}>
      <div style={{fontSize: '13px', display: 'flex', justifyContent: 'space-between', gap: '8px', flexWrap: 'wrap'}}>
        <span>
          <b>{c.label}</b> <Muted>at {fmtAt(c.t)}, N = {c.n}</Muted>
        </span>
        <span style={{color: label.bad ? red : '#1b5e20', fontWeight: label.bad ? 700 : 400}}>{label.text}</span>
      </div>
      <TimeChart
        shape={`change-${s.hasModel}`}
        data={s.data}
        height={170}
        series={[
          {label: 'reflecting', stroke: colors.fraction, width: 2, paths: stepped, spanGaps: true, value: (_u, v) => (v == null ? '–' : `${Math.round(v * 100)}%`)},
          {label: 'model', stroke: colors.model, width: 1.5, dash: [6, 4], spanGaps: true, show: s.hasModel, value: (_u, v) => (v == null ? '–' : `${Math.round(v * 100)}%`)},
          {label: 'views', stroke: colors.views, width: 1.5, paths: stepped, spanGaps: true, scale: 'views'},
        ]}
        axes={[
          {values: (_u, vals) => vals.map((v) => `${Math.round(v * 100)}%`), size: 52},
          {scale: 'views', side: 1, grid: {show: false}, size: 30, stroke: colors.views, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : ''))},
        ]}
        scales={{y: {range: [0, 1.02]}, views: {range: (_u, _min, max) => [0, Math.max(2, max + 1)]}}}
        xRange={[0, s.xMax]}
        xLabel={(v) => fmtDur(v)}
        xName="since the change"
        legend={false}
        cursor={props.cursor - c.t}
        marks={[
          ...(s.modelMs !== undefined ? [{x: s.modelMs, color: colors.model, dash: true}] : []),
          ...(s.took !== undefined ? [{x: s.took, color: label.bad ? red : '#1b5e20'}] : []),
        ]}
        faults={bands}
        end={data.meta.end - c.t}
        onCursor={(x) => props.setCursor(Math.round(c.t + x))}
      />
    </div>
  );
}
