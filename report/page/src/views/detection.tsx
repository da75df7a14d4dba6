/**
 * Failure detection: for each fault, how long each live observer took to
 * suspect the peer and then declare it dead, against the model's bound;
 * and every suspicion or death of a peer that was in fact live and
 * reachable, in red, counted and listed.
 */
import {useCallback, useMemo, useState} from 'preact/hooks';
import type {DetectionFault} from '../../../src/data/types.js';
import type {ViewProps} from '../view-props.js';
import {Canvas} from './common/canvas.js';
import {fmtAt, fmtCount, fmtDur, plural} from './common/format.js';
import {tOf} from './common/time-strip.js';
import {Bar, LinkButton, Muted, Notice, Swatch, red} from './common/ui.js';
import {barRowH, barScale, barsHeight, barTop, detColors, barsCursor, drawBars, drawStrip, stripCursor, stripH, stripScale} from './detection/draw.js';

const maxFaults = 8;
const maxListed = 200;

function faultEnd(f: DetectionFault): number {
  let end = f.t + (f.boundMs ?? 0);
  for (const o of f.observers) end = Math.max(end, o.deadAt ?? 0, o.suspectAt ?? 0, ...o.refutations);
  return end;
}

export function DetectionView(props: ViewProps) {
  const {data, window: win, cursor} = props;
  const det = data.detection;
  const [all, setAll] = useState(false);
  const shown = useMemo(() => det.faults.filter((f) => all || (f.t <= win.to && faultEnd(f) >= win.from)), [det, all, win.from, win.to]);
  const drawStripFn = useCallback(
    (ctx: CanvasRenderingContext2D, width: number) => drawStrip(ctx, data, width, win.from, win.to),
    [data, win.from, win.to],
  );
  const stripCursorAt = (width: number) => stripCursor(width, win.from, win.to, cursor);
  const onStripClick = (x: number, _y: number, width: number) => {
    const s = stripScale(width, win.from, win.to);
    if (x >= s.x0 && x <= s.x1) props.setCursor(Math.round(tOf(s, x)));
  };
  const nFalse = det.falseSuspicions.length + det.falseDeaths.length;
  return (
    <div class="view-detection">
      <Bar>
        <span>{plural(det.faults.length, 'fault')} detected by observers</span>
        <b style={{color: det.falseSuspicions.length ? red : '#1b5e20'}}>false suspicions: {fmtCount(det.falseSuspicions.length)}</b>
        <b style={{color: det.falseDeaths.length ? red : '#1b5e20'}}>false deaths: {fmtCount(det.falseDeaths.length)}</b>
      </Bar>
      <Bar>
        <Swatch color={detColors.undetected} label="fault, not yet suspected" />
        <Swatch color={detColors.suspected} label="suspected" />
        <Swatch color={detColors.dead} label="declared dead" shape="tick" />
        <Swatch color={detColors.refutation} label="refutation" shape="tick" />
        <Swatch color={detColors.bound} label="model's bound" shape="dash" />
        <Muted>an observer's name in red: dead later than the bound, or never; n› at the right: refutations after the chart's end</Muted>
      </Bar>
      <Canvas
        label={`faults, false suspicions and false deaths from ${fmtAt(win.from)} to ${fmtAt(win.to)}`}
        height={stripH}
        draw={drawStripFn}
        cursor={stripCursorAt}
        onClick={onStripClick}
        onBrush={(x0, x1, width) => {
          const s = stripScale(width, win.from, win.to);
          const a = Math.max(s.x0, x0);
          const b = Math.min(s.x1, x1);
          if (b - a > 4) props.setWindow({from: tOf(s, a), to: tOf(s, b)});
        }} title="click to set the cursor" />
      {det.faults.length === 0 ? (
        <Notice tone="info">No kill, pause, stop, isolation or partition in this run: no failure to detect.</Notice>
      ) : shown.length === 0 ? (
        <Notice tone="info">
          No fault in this window ({fmtAt(win.from)} – {fmtAt(win.to)}). <LinkButton onClick={() => setAll(true)}>show all {det.faults.length}</LinkButton>
        </Notice>
      ) : (
        <>
          {(shown.length > maxFaults || all) && (
            <Notice tone={shown.length > maxFaults ? 'warn' : 'info'}>
              {shown.length > maxFaults ? `Showing the first ${maxFaults} of ${shown.length} faults; brush a narrower window to see the others.` : `Showing all ${det.faults.length} faults of the run.`}{' '}
              <LinkButton onClick={() => setAll(!all)}>{all ? 'only the window' : 'show all'}</LinkButton>
            </Notice>
          )}
          {shown.slice(0, maxFaults).map((f) => (
            <FaultBars key={`${f.kind}-${f.t}-${f.subject}`} fault={f} {...props} />
          ))}
        </>
      )}
      {nFalse > 0 && <FalseList {...props} />}
    </div>
  );
}

function FaultBars(props: ViewProps & {fault: DetectionFault}) {
  const {fault: f, data, cursor} = props;
  const draw = useCallback((ctx: CanvasRenderingContext2D, width: number) => drawBars(ctx, data, f, width), [data, f]);
  const cursorAt = (width: number) => barsCursor(f, width, cursor);
  const suspected = f.observers.filter((o) => o.suspectAt !== undefined).length;
  const dead = f.observers.filter((o) => o.deadAt !== undefined);
  const slowest = dead.reduce((m, o) => Math.max(m, o.deadAt! - f.t), 0);
  const late = f.boundMs !== undefined ? f.observers.filter((o) => o.deadAt === undefined || o.deadAt - f.t > f.boundMs!).length : 0;
  const [hover, setHover] = useState<string | undefined>(undefined);
  const onMove = (_x: number, y: number) => {
    const o = f.observers[Math.floor((y - barTop) / barRowH)];
    if (!o) return setHover(undefined);
    const rel = (t: number | undefined) => (t === undefined ? 'never' : `+${fmtDur(t - f.t)}`);
    const refs = o.refutations.length ? `, ${plural(o.refutations.length, 'refutation')} at ${o.refutations.map(rel).join(', ')}` : '';
    setHover(`${data.peers[o.observer]}: suspected ${rel(o.suspectAt)}, declared dead ${rel(o.deadAt)}${f.boundMs !== undefined ? ` (bound ${fmtDur(f.boundMs)})` : ''}${refs}`);
  };
  const onClick = (x: number, _y: number, width: number) => {
    const s = barScale(f, width);
    if (x >= s.x0 && x <= s.x1) props.setCursor(Math.round(f.t + tOf(s, x)));
  };
  return (
    <div style={{margin: '8px 0', borderTop: '1px solid #eee', paddingTop: '4px'}}>
      <div style={{fontSize: '13px'}}>
        <b>
          {f.kind} {data.peers[f.subject]}
        </b>{' '}
        <Muted>at {fmtAt(f.t)}</Muted> · bound {f.boundMs !== undefined ? fmtDur(f.boundMs) : <Muted>unknown (no timing reported)</Muted>} · suspected by {suspected}/{f.observers.length}, dead at{' '}
        {dead.length}/{f.observers.length}
        {dead.length > 0 && `, slowest ${fmtDur(slowest)}`}
        {late > 0 && <b style={{color: red}}> · {late} later than the bound or never</b>}
      </div>
      {f.observers.length === 0 ? <Muted>no live observer at the fault</Muted> : (
        <>
          <Canvas label={`when each observer suspected and declared ${data.peers[f.subject]} dead after the ${f.kind}`} height={barsHeight(f)} draw={draw} cursor={cursorAt} onClick={onClick} onMove={onMove} onLeave={() => setHover(undefined)} title="click to set the cursor" />
          <div style={{minHeight: '16px', fontSize: '12px', color: '#333'}}>{hover ?? ' '}</div>
        </>
      )}
    </div>
  );
}

/** The cursor on t, and the window moved (same span) to hold it when it did not. */
function goTo(props: ViewProps, t: number): void {
  const {from, to} = props.window;
  if (t < from || t > to) {
    const span = to - from;
    const start = Math.max(0, Math.min(props.data.meta.end - span, t - span / 2));
    props.setWindow({from: start, to: start + span});
  }
  props.setCursor(t);
}

function FalseList(props: ViewProps) {
  const {data} = props;
  const rows = useMemo(() => {
    const r = [
      ...data.detection.falseSuspicions.map((e) => ({...e, what: 'suspected'})),
      ...data.detection.falseDeaths.map((e) => ({...e, what: 'declared dead'})),
    ];
    return r.sort((a, b) => a.t - b.t);
  }, [data]);
  return (
    <div style={{marginTop: '10px'}}>
      <div style={{fontSize: '13px', color: red, fontWeight: 700}}>
        False suspicions and deaths (a live, reachable peer), {fmtCount(rows.length)}
        {rows.length > maxListed && `, the first ${maxListed} listed`}:
      </div>
      <ol style={{margin: '4px 0', paddingLeft: '22px', fontSize: '12px', columns: '3 260px', color: red}}>
        {rows.slice(0, maxListed).map((e, i) => (
          <li key={i}>
            <a href="#" style={{color: red}} onClick={(ev) => (ev.preventDefault(), goTo(props, e.t))}>
              {fmtAt(e.t)}
            </a>{' '}
            {data.peers[e.observer]} {e.what} {data.peers[e.subject]}
          </li>
        ))}
      </ol>
      {rows.length > maxListed && <Notice>{fmtCount(rows.length - maxListed)} more not listed; the strip above marks them all.</Notice>}
    </div>
  );
}
