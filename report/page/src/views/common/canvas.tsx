/**
 * One canvas sized to its container's width and the device's pixel ratio:
 * the views draw every mark on it, so a million deliveries never become a
 * million DOM nodes.
 */
import {useEffect, useLayoutEffect, useRef, useState} from 'preact/hooks';

export interface CanvasProps {
  height: number;
  /** Draws in CSS pixels; called again whenever it changes identity or the width changes. */
  draw(ctx: CanvasRenderingContext2D, width: number, height: number): void;
  onClick?(x: number, y: number, width: number, ev: MouseEvent): void;
  onMove?(x: number, y: number, width: number): void;
  onLeave?(): void;
  class?: string;
  title?: string;
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

export function Canvas(props: CanvasProps) {
  const [ref, width] = useWidth();
  const canvas = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const c = canvas.current;
    if (!c || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(width * dpr);
    const h = Math.round(props.height * dpr);
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    c.style.width = `${width}px`;
    c.style.height = `${props.height}px`;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, props.height);
    props.draw(ctx, width, props.height);
  }, [props.draw, width, props.height]);
  const pos = (ev: MouseEvent): [number, number] => {
    const r = (ev.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  return (
    <div ref={ref} class={props.class} style={{width: '100%', position: 'relative'}}>
      <canvas
        ref={canvas}
        title={props.title}
        style={{display: 'block', height: `${props.height}px`}}
        onClick={props.onClick && ((ev) => props.onClick!(...pos(ev), width, ev))}
        onMouseMove={props.onMove && ((ev) => props.onMove!(...pos(ev), width))}
        onMouseLeave={props.onLeave}
      />
    </div>
  );
}
