/** Canvases drawn at the screen's pixel density, sized to their box, redrawn when it changes size. */
import {useEffect, useRef, useState} from 'preact/hooks';

/** Sizes a canvas's backing store to its CSS box and returns its context scaled to CSS pixels. */
export function prepare(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * ratio));
  const h = Math.max(1, Math.round(height * ratio));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

/** The width of an element, kept current as the page is resized. */
export function useWidth<T extends HTMLElement>(): [preact.RefObject<T>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** Maps times in [from, to] to x pixels in [x0, x0 + width]. */
export interface TimeScale {
  from: number;
  to: number;
  x0: number;
  width: number;
  x(t: number): number;
  t(x: number): number;
}

export function timeScale(from: number, to: number, x0: number, width: number): TimeScale {
  const span = Math.max(1, to - from);
  return {
    from,
    to,
    x0,
    width,
    x: (t) => x0 + ((t - from) / span) * width,
    t: (x) => from + ((x - x0) / width) * span,
  };
}
