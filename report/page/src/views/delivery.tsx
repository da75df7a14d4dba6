/**
 * The delivery matrix: the window's messages (in send order) against every
 * receiver, each cell delivered (shaded by latency), missing, duplicate or
 * out of order; when the messages outnumber the pixels, a row holds several
 * and says how many. Below it, delivery latency over time.
 */
import {useCallback, useMemo, useState} from 'preact/hooks';
import type uPlot from 'uplot';
import type {ViewProps} from '../view-props.js';
import {Canvas} from './common/canvas.js';
import {fmtAt, fmtCount, fmtDur, plural} from './common/format.js';
import {messageIndex} from './common/message-index.js';
import {Bar, Muted, Notice, Swatch, red} from './common/ui.js';
import {onRunTime, TimeChart} from './common/uplot-chart.js';
import {buildCells, cellDetail} from './delivery/cells.js';
import {drawMatrix, matrixCursor, latencyColor, matrixColors, matrixLayout} from './delivery/draw.js';

export function DeliveryView(props: ViewProps) {
  const {data, window: win, cursor, selectedMessage} = props;
  const idx = useMemo(() => messageIndex(data), [data]);
  const cells = useMemo(() => buildCells(data, idx, win.from, win.to), [data, idx, win.from, win.to]);
  const [hover, setHover] = useState<string | undefined>(undefined);
  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, width: number) => drawMatrix(ctx, data, idx, cells, matrixLayout(width, cells), selectedMessage),
    [data, idx, cells, selectedMessage],
  );
  const cursorAt = (width: number) => matrixCursor(idx, cells, matrixLayout(width, cells), cursor);
  const n = cells.b - cells.a;
  const at = (x: number, y: number, width: number): {row: number; col: number} | undefined => {
    const l = matrixLayout(width, cells);
    const row = Math.floor((y - l.headerH) / l.rowH);
    const col = Math.floor((x - l.x0) / l.colW);
    return row >= 0 && row < cells.rows && col >= 0 && col < cells.cols ? {row, col} : undefined;
  };
  const onMove = (x: number, y: number, width: number) => {
    const p = at(x, y, width);
    if (!p) return setHover(undefined);
    const d = cellDetail(data, idx, cells, p.row, p.col);
    const {sent} = data.messages;
    const to = data.peers[p.col];
    const lat = d.latencies.length ? `, latency ${fmtDur(Math.min(...d.latencies))}${d.latencies.length > 1 ? `–${fmtDur(Math.max(...d.latencies))}` : ''}` : '';
    if (d.messages.length === 1) {
      const m = d.messages[0]!;
      const state = d.sender ? 'its sender' : d.missing ? 'missing' : d.late ? 'missing at a failed delivered await\'s deadline' + (d.delivered + d.duplicate + d.outOfOrder > 0 ? ', delivered late' : '') : d.outOfOrder ? 'delivered out of order' : d.duplicate ? `delivered ${d.duplicate + d.delivered} times (duplicate)` : d.delivered ? 'delivered' : 'not expected here';
      setHover(`${sent.id[m]} from ${data.peers[sent.sender[m]!]}, sent ${fmtAt(sent.t[m]!)} → ${to}: ${state}${lat}`);
    } else {
      const first = sent.t[d.messages[0]!]!;
      const last = sent.t[d.messages[d.messages.length - 1]!]!;
      setHover(
        `${d.messages.length} messages sent ${fmtAt(first)} – ${fmtAt(last)} → ${to}: ${d.delivered} delivered, ${d.missing} missing, ${d.late} missing at a failed await's deadline, ${d.duplicate} duplicate, ${d.outOfOrder} out of order${lat}`,
      );
    }
  };
  const onClick = (x: number, y: number, width: number) => {
    const p = at(x, y, width);
    if (!p) return;
    const k = cells.a + p.row * cells.perRow;
    const m = idx.sentByTime[k]!;
    props.setCursor(data.messages.sent.t[m]!);
    if (cells.perRow === 1) props.selectMessage(m);
  };
  const first = n > 0 ? data.messages.sent.t[idx.sentByTime[cells.a]!]! : 0;
  const last = n > 0 ? data.messages.sent.t[idx.sentByTime[cells.b - 1]!]! : 0;
  return (
    <div class="view-delivery">
      <Bar>
        <span>
          {plural(n, 'message')} sent in {fmtAt(win.from)} – {fmtAt(win.to)}
        </span>
        <Swatch color={latencyColor(0, 1)} label="delivered fast" />
        <Swatch color={latencyColor(1, 1)} label={`slow (≥ ${fmtDur(idx.latencyScale)}, the run's p99)`} />
        <Swatch color={matrixColors.missing} label="missing" />
        <Swatch color={matrixColors.late} label="missing at a failed await's deadline (late or never)" />
        <Swatch color={matrixColors.duplicate} label="duplicate" />
        <Swatch color={matrixColors.outOfOrder} label="out of order" />
        <Muted>white: the sender, or not expected; left gutter: a fault was on when the message was sent</Muted>
      </Bar>
      {cells.perRow > 1 && (
        <Notice>
          <b>
            Aggregated: each row holds {fmtCount(cells.perRow)} consecutive messages ({fmtCount(n)} in this window, sent {fmtAt(first)} – {fmtAt(last)})
          </b>
          ; a cell shows the worst of them (missing, then out of order, then duplicate) and their mean latency. Brush a window of at most {fmtCount(600)} messages to see one per row.
        </Notice>
      )}
      {n === 0 ? (
        <Notice tone="info">No message was sent in this window.</Notice>
      ) : (
        <Canvas
          label={`delivery matrix: ${fmtCount(n)} messages against ${data.peers.length} receivers${cells.perRow > 1 ? `, ${cells.perRow} messages a row` : ''}`}
          data={{messages: n, 'per-row': cells.perRow}} height={matrixLayout(800, cells).height} draw={draw} cursor={cursorAt} onMove={onMove} onLeave={() => setHover(undefined)} onClick={onClick} />
      )}
      <div style={{minHeight: '18px', fontSize: '12px', color: '#333'}}>{hover ?? ' '}</div>
      <LatencyChart {...props} />
    </div>
  );
}

function LatencyChart(props: ViewProps) {
  const {data} = props;
  const lat = data.messages.latency;
  const d = useMemo((): uPlot.AlignedData => {
    const xs = lat.p50.map((_, i) => (i + 0.5) * lat.bucketMs);
    return [xs, lat.p50, lat.p99, lat.max];
  }, [lat]);
  if (!lat.p50.some((v) => v !== null)) return <Notice tone="info">No message was delivered in this run: no latency to chart.</Notice>;
  const ms = (_u: uPlot, v: number | null) => (v == null ? '–' : fmtDur(v));
  return (
    <div>
      <div style={{fontSize: '13px', marginTop: '6px'}}>
        Delivery latency per {fmtDur(lat.bucketMs)} <Muted>(click sets the cursor, drag sets the window; shaded: faults)</Muted>
        {data.messages.missing.message.length > 0 && <span style={{color: red}}> · {fmtCount(data.messages.missing.message.length)} missing deliveries (never made) are not in it</span>}
      </div>
      <TimeChart
        shape="latency"
        data={d}
        height={200}
        series={[
          {label: 'p50', stroke: '#1f5f99', width: 1.5, value: ms, points: {show: true, size: 4, fill: '#1f5f99'}},
          {label: 'p99', stroke: '#e07b00', width: 1.5, value: ms, points: {show: true, size: 4, fill: '#e07b00'}},
          {label: 'max', stroke: '#c62828', width: 1, dash: [4, 3], value: ms, points: {show: true, size: 3, fill: '#c62828'}},
        ]}
        axes={[{values: (_u, vals) => vals.map((v) => fmtDur(v)), size: 60, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000]}]}
        scales={{y: {range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1]}}}
        {...onRunTime(props)}
      />
    </div>
  );
}
