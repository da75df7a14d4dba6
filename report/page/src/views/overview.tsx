/**
 * The overview strip: the whole run on one time axis — steps as a Gantt,
 * fault bands, each peer's lifecycle, failed checks as markers, and the event
 * rate below. It shows the run, not the window: the window is the unshaded
 * part, chosen by dragging; a click moves the cursor, a click on a check opens
 * its step.
 */
import uPlot from 'uplot';
import {useEffect, useMemo, useRef} from 'preact/hooks';
import {faultColors, type FaultBand, type ReportData} from '../../../src/data/types.js';
import {lifecycleColors, statusColors} from '../colors.js';
import {useBrush} from '../draw/brush.js';
import {prepare, timeScale, useWidth, type TimeScale} from '../draw/canvas.js';
import {formatTick, formatTime, ticks} from '../draw/time.js';
import {Tooltip, useTooltip} from '../draw/tooltip.js';
import {wholeRun} from '../hash.js';
import type {ViewProps} from '../view-props.js';

const gutter = 200;
const right = 10;
const axisH = 20;
const laneH = 16;
const checkH = 18;

interface Layout {
  lanes: FaultBand[][];
  faultsY: number;
  checksY: number;
  peersY: number;
  peerH: number;
  height: number;
}

/** Fault bands in as few lanes as keep them from overlapping. */
function faultLanes(data: ReportData): FaultBand[][] {
  const lanes: FaultBand[][] = [];
  const ends: number[] = [];
  const sorted = [...data.timeline.faults].sort((a, b) => a.from - b.from);
  for (const band of sorted) {
    const to = band.to ?? data.meta.end;
    let lane = ends.findIndex((end) => end <= band.from);
    if (lane < 0) {
      lane = lanes.length;
      lanes.push([]);
      ends.push(0);
    }
    lanes[lane]!.push(band);
    ends[lane] = Math.max(to, band.from + 1);
  }
  return lanes;
}

function layout(data: ReportData): Layout {
  const lanes = faultLanes(data);
  const faultsY = axisH;
  const checksY = faultsY + Math.max(1, lanes.length) * laneH + 4;
  const peersY = checksY + checkH + 4;
  const n = data.peers.length;
  const peerH = n <= 20 ? 13 : n <= 40 ? 9 : Math.max(2, Math.floor(360 / n));
  return {lanes, faultsY, checksY, peersY, peerH, height: peersY + n * peerH + 4};
}

function drawStrip(ctx: CanvasRenderingContext2D, data: ReportData, lay: Layout, x: TimeScale, width: number): void {
  const end = data.meta.end;
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  // Axis
  const {step, values} = ticks(0, end, Math.max(2, Math.floor((width - gutter) / 90)));
  ctx.strokeStyle = '#e3e7ec';
  ctx.fillStyle = '#5f6b7a';
  ctx.textAlign = 'center';
  for (const v of values) {
    const px = Math.round(x.x(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, axisH - 4);
    ctx.lineTo(px, lay.height);
    ctx.stroke();
    ctx.textAlign = px > width - 24 ? 'right' : 'center';
    ctx.fillText(formatTick(v, step), px, 9);
  }
  // Gutter labels
  ctx.textAlign = 'right';
  ctx.fillStyle = '#1d2430';
  ctx.fillText('faults', gutter - 8, lay.faultsY + laneH / 2);
  ctx.fillText('checks', gutter - 8, lay.checksY + checkH / 2);
  // Marks past the end (a live run's bands drawn to the end) stay inside the plot.
  ctx.save();
  ctx.beginPath();
  ctx.rect(x.x0 - 7, 0, x.width + 14, lay.height);
  ctx.clip();
  // Fault bands, one lane each, labelled inside when they fit
  if (lay.lanes.length === 0) {
    ctx.textAlign = 'left';
    ctx.fillStyle = '#8a94a3';
    ctx.fillText('none', gutter + 4, lay.faultsY + laneH / 2);
  }
  lay.lanes.forEach((lane, i) => {
    const y = lay.faultsY + i * laneH;
    for (const band of lane) {
      const x0 = x.x(band.from);
      const x1 = Math.max(x0 + 2, x.x(band.to ?? end));
      ctx.fillStyle = faultColors[band.kind];
      ctx.fillRect(x0, y + 1, x1 - x0, laneH - 3);
      if (x1 - x0 > 40) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(x0, y, x1 - x0 - 2, laneH);
        ctx.clip();
        ctx.fillStyle = band.kind === 'isolate' || band.kind === 'pause' ? '#1d2430' : '#fff';
        ctx.textAlign = 'left';
        ctx.fillText(band.label, x0 + 4, y + laneH / 2);
        ctx.restore();
      }
    }
  });
  // Check markers: diamonds
  for (const c of data.timeline.checks) {
    const cx = x.x(c.t);
    const cy = lay.checksY + checkH / 2;
    ctx.fillStyle = statusColors[c.status];
    ctx.beginPath();
    ctx.moveTo(cx, cy - 6);
    ctx.lineTo(cx + 6, cy);
    ctx.lineTo(cx, cy + 6);
    ctx.lineTo(cx - 6, cy);
    ctx.closePath();
    ctx.fill();
  }
  // Peer lifecycles
  const labels = lay.peerH >= 8;
  ctx.font = `${Math.min(11, lay.peerH - 1)}px system-ui, sans-serif`;
  data.peers.forEach((name, p) => {
    const y = lay.peersY + p * lay.peerH;
    for (const seg of data.timeline.lifecycles[p] ?? []) {
      const x0 = x.x(seg.from);
      const x1 = Math.max(x0 + 1, x.x(seg.to ?? end));
      ctx.fillStyle = lifecycleColors[seg.state];
      // Thin rows without gaps: a hundred peers read as one block, with the down ones as dark marks in it.
      const gap = lay.peerH >= 6 ? 1 : 0;
      ctx.fillRect(x0, y + gap, x1 - x0, lay.peerH - 2 * gap);
    }
  });
  ctx.restore();
  if (labels) {
    ctx.fillStyle = '#1d2430';
    ctx.textAlign = 'right';
    data.peers.forEach((name, p) => ctx.fillText(name, gutter - 8, lay.peersY + p * lay.peerH + lay.peerH / 2, gutter - 12));
  }
  if (!labels) {
    ctx.fillStyle = '#1d2430';
    ctx.textAlign = 'right';
    ctx.fillText(`peers (${data.peers.length})`, gutter - 8, lay.peersY + 8);
  }
}

interface Hit {
  text: string;
  anchor?: string;
  t?: number;
}

function hitTest(data: ReportData, lay: Layout, x: TimeScale, px: number, py: number): Hit | undefined {
  if (px < gutter) return undefined;
  const t = x.t(px);
  if (py >= lay.checksY && py < lay.checksY + checkH) {
    let best: Hit | undefined;
    let bestD = 8;
    for (const c of data.timeline.checks) {
      const d = Math.abs(x.x(c.t) - px);
      if (d < bestD) {
        bestD = d;
        best = {text: `${c.label} (${c.status}) at ${formatTime(c.t)}\n${c.message}`, anchor: c.anchor, t: c.t};
      }
    }
    return best;
  }
  if (py >= lay.faultsY && py < lay.faultsY + lay.lanes.length * laneH) {
    const lane = lay.lanes[Math.floor((py - lay.faultsY) / laneH)] ?? [];
    const band = lane.find((b) => b.from <= t && t <= (b.to ?? data.meta.end));
    if (band) return {text: `${band.label}\n${formatTime(band.from)} – ${band.to === undefined ? 'the end' : formatTime(band.to)}`};
  }
  if (py >= lay.peersY) {
    const p = Math.floor((py - lay.peersY) / lay.peerH);
    const seg = data.timeline.lifecycles[p]?.find((s) => s.from <= t && t <= (s.to ?? data.meta.end));
    if (data.peers[p] !== undefined) return {text: `${data.peers[p]}: ${seg ? seg.state : 'not started'} at ${formatTime(t)}`};
  }
  return undefined;
}

function Steps({data, x}: {data: ReportData; x: TimeScale}) {
  const end = data.meta.end;
  return (
    <div class="steps">
      {data.timeline.steps.map((s) => {
        const x0 = x.x(s.begin);
        const x1 = Math.min(x.x0 + x.width, Math.max(x0 + 3, x.x(s.end ?? end)));
        const tip = `${s.path}. ${s.kind}: ${s.title} (line ${s.line})\n${formatTime(s.begin)} – ${s.end === undefined ? 'never ended' : formatTime(s.end)} · ${s.status}${s.message ? `\n${s.message}` : ''}`;
        return (
          <div class={`step step-${s.status}${location.hash === `#${s.anchor}` ? ' hl' : ''}`} id={s.anchor} key={s.anchor} title={tip}>
            <a class="step-label" href={`#${s.anchor}`} style={{paddingLeft: `${4 + s.depth * 12}px`, width: `${gutter}px`}}>
              <span class="step-path">{s.path}</span> {s.title}
            </a>
            <i class="step-bar" style={{left: `${x0}px`, width: `${x1 - x0}px`, background: statusColors[s.status]}} />
            {s.status !== 'pass' && s.message && (
              <span class="step-message" style={x1 + 220 < x.x0 + x.width ? {left: `${x1 + 6}px`} : {right: `${x.x0 + x.width + right - x0 + 6}px`, textAlign: 'right'}}>
                {s.message}
              </span>
            )}
          </div>
        );
      })}
    </div>
  );
}

/** Failed and undecided checks in words, in time order; an invariant's row carries its anchor (#invariant-<name>). */
function Checks({data, setCursor}: {data: ReportData; setCursor(t: number): void}) {
  const checks = [...data.timeline.checks].sort((a, b) => a.t - b.t);
  if (checks.length === 0) return null;
  return (
    <ul class="checks">
      {checks.map((c) => (
        <li id={c.anchor.startsWith('invariant-') ? c.anchor : undefined} class={`check check-${c.status}${location.hash === `#${c.anchor}` ? ' hl' : ''}`} key={`${c.anchor}@${c.t}`}>
          <i style={{background: statusColors[c.status]}} />
          <a href={`#${c.anchor}`} onClick={() => setCursor(c.t)}>
            {c.label}
          </a>{' '}
          <span class="muted">at {formatTime(c.t)}</span> — {c.message}
        </li>
      ))}
    </ul>
  );
}

function RateChart({data, width}: {data: ReportData; width: number}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const series = useMemo(() => {
    const {bucketMs, counts} = data.timeline.rate;
    const xs = counts.map((_, i) => i * bucketMs);
    const ys = counts.map((c) => (c * 1000) / bucketMs);
    return [xs, ys] as uPlot.AlignedData;
  }, [data.timeline.rate]);
  useEffect(() => {
    if (!el.current || width <= gutter) return;
    const opts: uPlot.Options = {
      width,
      height: 90,
      padding: [6, right, 0, 0],
      legend: {show: false},
      cursor: {show: false},
      select: {show: false, left: 0, top: 0, width: 0, height: 0},
      scales: {x: {time: false, range: () => [0, Math.max(1, data.meta.end)]}, y: {range: (_u, _min, max) => [0, Math.max(1, max * 1.08)]}},
      axes: [
        {size: 22, stroke: '#5f6b7a', grid: {stroke: '#e3e7ec', width: 1}, ticks: {show: false}, values: (_u, vals) => vals.map((v) => formatTick(v, vals.length > 1 ? Math.abs(vals[1]! - vals[0]!) : 1000)), font: '11px system-ui, sans-serif'},
        {size: gutter - 14, stroke: '#5f6b7a', grid: {stroke: '#eef1f4', width: 1}, ticks: {show: false}, label: 'events/s', labelSize: 14, labelFont: '11px system-ui, sans-serif', font: '11px system-ui, sans-serif'},
      ],
      series: [{}, {stroke: '#3a6ea5', fill: 'rgba(58,110,165,.18)', width: 1, points: {show: false}}],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, series, el.current);
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [series, width, data.meta.end]);
  return <div class="rate" ref={el} />;
}

export function OverviewView(props: ViewProps) {
  const {data, cursor, window: win} = props;
  const [wrap, width] = useWidth<HTMLDivElement>();
  const canvas = useRef<HTMLCanvasElement>(null);
  const lay = useMemo(() => layout(data), [data]);
  const x = timeScale(0, Math.max(1, data.meta.end), gutter, Math.max(10, width - gutter - right));
  const {tip, show, hide} = useTooltip();

  useEffect(() => {
    if (!canvas.current || width === 0) return;
    drawStrip(prepare(canvas.current, width, lay.height), data, lay, x, width);
  }, [data, lay, width]);

  const brush = useBrush(x, {
    click(t, e) {
      const rect = canvas.current?.getBoundingClientRect();
      const hit = rect && hitTest(data, lay, x, e.clientX - rect.left, e.clientY - rect.top);
      if (hit?.anchor) {
        if (location.hash === `#${hit.anchor}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
        else location.hash = hit.anchor;
      } else props.setCursor(Math.round(t));
    },
    brush: (from, to) => props.setWindow({from, to}),
    reset: () => props.setWindow(wholeRun(data)),
  });

  const onMove = (e: MouseEvent) => {
    const rect = canvas.current?.getBoundingClientRect();
    if (!rect) return;
    const py = e.clientY - rect.top;
    if (py < 0 || py > rect.height) return hide();
    show(e.clientX, e.clientY, hitTest(data, lay, x, e.clientX - rect.left, py)?.text);
  };

  const shade = (from: number, to: number, cls: string) => {
    const a = Math.max(x.x0, x.x(from));
    const b = Math.min(x.x0 + x.width, x.x(to));
    return b > a ? <div class={cls} style={{left: `${a}px`, width: `${b - a}px`}} /> : null;
  };
  const cursorX = x.x(cursor);
  return (
    <>
    <div class="overview" ref={wrap} {...brush.handlers} onMouseMove={onMove} onMouseLeave={hide}>
      {width > 0 && (
        <>
          <canvas ref={canvas} role="img" aria-label="the run over time: fault bands, failed checks and each peer's process state" />
          <Steps data={data} x={x} />
          <RateChart data={data} width={width} />
          <div class="overlay">
            {shade(0, win.from, 'outside')}
            {shade(win.to, data.meta.end, 'outside')}
            {brush.dragging && shade(brush.dragging.from, brush.dragging.to, 'dragging')}
            {cursorX >= x.x0 && cursorX <= x.x0 + x.width && <div class="cursor" style={{left: `${cursorX}px`}} />}
          </div>
        </>
      )}
      <Tooltip tip={tip} />
    </div>
    <Checks data={data} setCursor={props.setCursor} />
    </>
  );
}
