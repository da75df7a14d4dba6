/**
 * One canvas sized to its container's width and the device's pixel ratio:
 * the views draw every mark on it, so a million deliveries never become a
 * million DOM nodes. What moves often (the time cursor) is one thin element
 * on top, so scrubbing moves an element and never repaints (or re-uploads)
 * the canvas.
 */
import {useEffect, useLayoutEffect, useRef, useState} from 'preact/hooks';
import {cursorColor} from '../../colors.js';
import type {Rect} from './time-strip.js';

type Draw = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

export interface CanvasProps {
  height: number;
  /** Draws the marks in CSS pixels; called again whenever it changes identity or the size changes. */
  draw: Draw;
  /** Where the cursor's line goes for this width, if it is in view. */
  cursor?: (width: number) => Rect | undefined;
  onClick?(x: number, y: number, width: number, ev: MouseEvent): void;
  onMove?(x: number, y: number, width: number): void;
  onLeave?(): void;
  /** A horizontal drag from x0 to x1 (CSS pixels); a drag is then not a click. */
  onBrush?(x0: number, x1: number, width: number): void;
  title?: string;
  /** What the canvas shows, in words, for a screen reader. */
  label: string;
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
  useLayoutEffect(() => paint(base.current, width, props.height, props.draw), [props.draw, width, props.height]);
  const line = width > 0 ? props.cursor?.(width) : undefined;
  const [drag, setDrag] = useState<{x0: number; x1: number} | undefined>(undefined);
  const dragged = useRef(false);
  const pos = (ev: MouseEvent): [number, number] => {
    const r = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  const down = (ev: MouseEvent) => {
    if (!props.onBrush || ev.button !== 0) return;
    const [x] = pos(ev);
    dragged.current = false;
    setDrag({x0: x, x1: x});
    ev.preventDefault();
  };
  const move = (ev: MouseEvent) => {
    if (drag) {
      const [x] = pos(ev);
      if (Math.abs(x - drag.x0) > 4) dragged.current = true;
      setDrag({x0: drag.x0, x1: x});
    }
    props.onMove?.(...pos(ev), width);
  };
  const up = () => {
    if (drag && dragged.current) props.onBrush?.(Math.min(drag.x0, drag.x1), Math.max(drag.x0, drag.x1), width);
    setDrag(undefined);
  };
  const click = (ev: MouseEvent) => {
    if (dragged.current) {
      dragged.current = false;
      return;
    }
    props.onClick?.(...pos(ev), width, ev);
  };
  const layer = {display: 'block', height: `${props.height}px`};
  return (
    <div
      ref={ref}
      {...Object.fromEntries(Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, String(v)]))}
      title={props.title}
      style={{width: '100%', position: 'relative', height: `${props.height}px`}}
      onMouseDown={down}
      onMouseUp={up}
      onClick={click}
      onMouseMove={move}
      onMouseLeave={() => {
        setDrag(undefined);
        props.onLeave?.();
      }}
    >
      <canvas ref={base} style={layer} role="img" aria-label={props.label} />
      {drag && dragged.current && (
        <div
          style={{position: 'absolute', top: 0, left: `${Math.min(drag.x0, drag.x1)}px`, width: `${Math.abs(drag.x1 - drag.x0)}px`, height: '100%', background: 'rgba(21,101,192,0.15)', pointerEvents: 'none'}}
        />
      )}
      {line && (
        <div
          class="view-cursor"
          style={{position: 'absolute', left: 0, top: `${line.top}px`, width: `${line.width}px`, height: `${line.height}px`, transform: `translateX(${line.left}px)`, background: cursorColor, pointerEvents: 'none'}}
        />
      )}
    </div>
  );
}
