/**
 * A uPlot chart on a time axis that takes part in the page's linking: it
 * shades the fault bands behind the series, shows the time cursor, sets the
 * cursor on a click and the window on a drag. uPlot is created once per
 * shape (series list) and then only fed data and scales, which is cheap.
 */
import {useEffect, useRef} from 'preact/hooks';
import uPlot from 'uplot';
import {faultColors, type FaultBand} from '../../../../src/data/types.js';
import {useWidth} from './canvas.js';
import {cursorColor} from '../../colors.js';
import type {ViewProps} from '../../view-props.js';
import {fmtAt} from './format.js';

export interface TimeChartProps {
  /** Changes when the series list changes shape: the chart is rebuilt then. */
  shape: string;
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  /** Extra axes after the x axis (default: one y axis). */
  axes?: uPlot.Axis[];
  scales?: uPlot.Scales;
  xRange: [number, number];
  height: number;
  /** In the chart's x units; drawn as a red line. */
  cursor?: number;
  /** Vertical lines in the chart's x units, e.g. when a change completed and when the model says it should have. */
  marks?: Array<{x: number; color: string; dash?: boolean}>;
  /** Bands in the chart's x units (`end` closes the open ones). */
  faults?: FaultBand[];
  end?: number;
  /** x axis labels: `(value) => text`. */
  xLabel?: (v: number) => string;
  /** Show uPlot's legend (values under the pointer); off for small multiples, which share the view's legend. */
  legend?: boolean;
  /** The x value's name in the legend (default "time"). */
  xName?: string;
  onCursor?(x: number): void;
  onWindow?(from: number, to: number): void;
}

/**
 * The props of a chart whose x axis is the run's time: it shows the brushed
 * window, the cursor and the fault bands, and sets the cursor and window.
 */
export function onRunTime(props: ViewProps): Pick<TimeChartProps, 'xRange' | 'xLabel' | 'cursor' | 'faults' | 'end' | 'onCursor' | 'onWindow'> {
  return {
    xRange: [props.window.from, props.window.to],
    xLabel: fmtAt,
    cursor: props.cursor,
    faults: props.data.timeline.faults,
    end: props.data.meta.end,
    onCursor: (t) => props.setCursor(Math.round(t)),
    onWindow: (from, to) => props.setWindow({from, to}),
  };
}

export function TimeChart(props: TimeChartProps) {
  const [ref, width] = useWidth();
  const host = useRef<HTMLDivElement | null>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const cursorLine = useRef<HTMLDivElement | null>(null);
  const placeCursor = (u: uPlot) => {
    const line = cursorLine.current;
    const c = latest.current.cursor;
    if (!line) return;
    const {min, max} = u.scales.x!;
    if (c === undefined || min === undefined || max === undefined || c < min || c > max) {
      line.style.display = 'none';
      return;
    }
    line.style.display = 'block';
    line.style.transform = `translateX(${Math.round(u.valToPos(c, 'x')) - 1}px)`;
  };

  useEffect(() => {
    if (!host.current || width <= 0) return;
    const bands: uPlot.Plugin = {
      hooks: {
        drawClear: (u) => {
          const p = latest.current;
          if (!p.faults?.length) return;
          const ctx = u.ctx;
          const {top, height} = u.bbox;
          ctx.save();
          ctx.globalAlpha = 0.14;
          for (const f of p.faults) {
            const to = f.to ?? p.end ?? u.scales.x!.max!;
            const a = Math.max(u.bbox.left, u.valToPos(f.from, 'x', true));
            const b = Math.min(u.bbox.left + u.bbox.width, u.valToPos(to, 'x', true));
            if (b <= a) continue;
            ctx.fillStyle = faultColors[f.kind];
            ctx.fillRect(a, top, Math.max(1, b - a), height);
          }
          ctx.restore();
        },
        draw: (u) => {
          const ctx0 = u.ctx;
          for (const m of latest.current.marks ?? []) {
            const x = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx0.save();
            ctx0.strokeStyle = m.color;
            ctx0.lineWidth = uPlot.pxRatio;
            ctx0.setLineDash(m.dash ? [4 * uPlot.pxRatio, 3 * uPlot.pxRatio] : []);
            ctx0.beginPath();
            ctx0.moveTo(x, u.bbox.top);
            ctx0.lineTo(x, u.bbox.top + u.bbox.height);
            ctx0.stroke();
            ctx0.restore();
          }
          placeCursor(u);
        },
        setSize: (u) => placeCursor(u),
        setSelect: (u) => {
          const s = u.select;
          if (s.width > 3) latest.current.onWindow?.(u.posToVal(s.left, 'x'), u.posToVal(s.left + s.width, 'x'));
          u.setSelect({left: 0, top: 0, width: 0, height: 0}, false);
        },
      },
    };
    const xLabel = props.xLabel;
    const opts: uPlot.Options = {
      width,
      height: props.height,
      series: [{label: props.xName ?? 'time', value: (_u, v) => (v == null ? '–' : xLabel ? xLabel(v) : String(v))}, ...props.series],
      scales: {x: {time: false, range: () => latest.current.xRange}, ...props.scales},
      axes: [{values: xLabel ? (_u, vals) => vals.map(xLabel) : undefined, size: 30}, ...(props.axes ?? [{}])],
      legend: {show: props.legend !== false, live: true},
      cursor: {drag: {x: !!props.onWindow, y: false, setScale: false}, points: {show: false}},
      plugins: [bands],
    };
    const u = new uPlot(opts, props.data, host.current);
    plot.current = u;
    // The time cursor is one thin element over the plot, moved without redrawing the chart.
    const line = document.createElement('div');
    line.style.cssText = `position:absolute;top:0;bottom:0;left:0;width:2px;background:${cursorColor};pointer-events:none;display:none`;
    u.over.appendChild(line);
    cursorLine.current = line;
    placeCursor(u);
    let downX = 0;
    const down = (e: MouseEvent) => (downX = e.clientX);
    const click = (e: MouseEvent) => {
      if (Math.abs(e.clientX - downX) > 3) return;
      latest.current.onCursor?.(u.posToVal(e.offsetX, 'x'));
    };
    u.over.addEventListener('mousedown', down);
    u.over.addEventListener('click', click);
    return () => {
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the shape changes or the first width arrives; the rest goes through setData/setSize below.
  }, [props.shape, width > 0, props.height]);

  useEffect(() => {
    const u = plot.current;
    if (u && width > 0 && u.width !== width) u.setSize({width, height: props.height});
  }, [width]);
  useEffect(() => {
    plot.current?.setData(props.data, true);
  }, [props.data]);
  useEffect(() => {
    const u = plot.current;
    if (u) u.setScale('x', {min: props.xRange[0], max: props.xRange[1]});
  }, [props.xRange[0], props.xRange[1]]);
  useEffect(() => {
    if (plot.current) placeCursor(plot.current);
  }, [props.cursor]);
  useEffect(() => {
    plot.current?.redraw(false);
  }, [props.faults]);

  return (
    <div ref={ref} style={{width: '100%'}}>
      <div ref={host} />
    </div>
  );
}
