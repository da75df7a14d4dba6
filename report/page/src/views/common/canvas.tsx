/**
 * One canvas sized to its container's width and the device's pixel ratio:
 * the views draw every mark on it, so a million deliveries never become a
 * million DOM nodes. What moves often (the time cursor) goes on a second,
 * transparent canvas on top, so scrubbing never repaints the marks.
 */
import {useEffect, useLayoutEffect, useRef, useState} from 'preact/hooks';

type Draw = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

export interface CanvasProps {
  height: number;
  /** Draws the marks in CSS pixels; called again whenever it changes identity or the size changes. */
  draw: Draw;
  /** Draws what moves (the cursor) on the layer above; called whenever it changes identity. */
  overlay?: Draw;
  onClick?(x: number, y: number, width: number, ev: MouseEvent): void;
  onMove?(x: number, y: number, width: number): void;
  onLeave?(): void;
  title?: string;
  /** data-* attributes saying in text what the canvas shows, for tests and tools that cannot read pixels. */
  data?: Record<string, string | number>;
}

export function useWidth(): [(el: HTMLElement | null) => void, number] {
  const [el, setEl] = useState<HTMLElement | null>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    if (!el) return;
    setWidth(Math.floor(el.clientWidth));
    const ro = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return [setEl, width];
}

function paint(c: HTMLCanvasElement | null, width: number, height: number, draw: Draw | undefined): void {
  if (!c || width <= 0) return;
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  c.style.width = `${width}px`;
  c.style.height = `${height}px`;
  const ctx = c.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  draw?.(ctx, width, height);
}

export function Canvas(props: CanvasProps) {
  const [ref, width] = useWidth();
  const base = useRef<HTMLCanvasElement>(null);
  const top = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => paint(base.current, width, props.height, props.draw), [props.draw, width, props.height]);
  useLayoutEffect(() => paint(top.current, width, props.height, props.overlay), [props.overlay, width, props.height]);
  const pos = (ev: MouseEvent): [number, number] => {
    const r = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  const layer = {display: 'block', height: `${props.height}px`};
  return (
    <div
      ref={ref}
      {...Object.fromEntries(Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, String(v)]))}
      title={props.title}
      style={{width: '100%', position: 'relative', height: `${props.height}px`}}
      onClick={props.onClick && ((ev) => props.onClick!(...pos(ev), width, ev))}
      onMouseMove={props.onMove && ((ev) => props.onMove!(...pos(ev), width))}
      onMouseLeave={props.onLeave}
    >
      <canvas ref={base} style={layer} />
      <canvas ref={top} style={{...layer, position: 'absolute', left: 0, top: 0, pointerEvents: 'none'}} />
    </div>
  );
}
