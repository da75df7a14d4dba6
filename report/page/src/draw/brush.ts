/**
 * Dragging across a time axis chooses a window, a click moves the cursor,
 * a double click goes back to the whole run: the same gesture on every
 * strip that spans the run.
 */
import {useRef, useState} from 'preact/hooks';
import type {TimeScale} from './canvas.js';

export interface Brush {
  /** The window being dragged, in ms, while the pointer is down. */
  dragging: {from: number; to: number} | undefined;
  handlers: {
    onPointerDown(e: PointerEvent): void;
    onPointerMove(e: PointerEvent): void;
    onPointerUp(e: PointerEvent): void;
    onDblClick(e: MouseEvent): void;
  };
}

export function useBrush(
  scale: TimeScale,
  on: {click(t: number, e: PointerEvent): void; brush(from: number, to: number): void; reset(): void},
): Brush {
  const start = useRef<{x: number; t: number} | undefined>(undefined);
  const [dragging, setDragging] = useState<{from: number; to: number} | undefined>(undefined);
  const localX = (e: MouseEvent) => e.clientX - (e.currentTarget as HTMLElement).getBoundingClientRect().left;
  const clampT = (x: number) => Math.min(scale.to, Math.max(scale.from, scale.t(x)));
  return {
    dragging,
    handlers: {
      onPointerDown(e) {
        if (e.button !== 0) return;
        const x = localX(e);
        if (x < scale.x0) return;
        start.current = {x, t: clampT(x)};
        (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
      },
      onPointerMove(e) {
        const s = start.current;
        if (!s) return;
        const x = localX(e);
        if (Math.abs(x - s.x) < 4) return setDragging(undefined);
        const t = clampT(x);
        setDragging({from: Math.min(s.t, t), to: Math.max(s.t, t)});
      },
      onPointerUp(e) {
        const s = start.current;
        start.current = undefined;
        setDragging(undefined);
        if (!s) return;
        const x = localX(e);
        if (Math.abs(x - s.x) < 4) on.click(s.t, e);
        else {
          const t = clampT(x);
          on.brush(Math.round(Math.min(s.t, t)), Math.round(Math.max(s.t, t)));
        }
      },
      onDblClick(e) {
        if (localX(e) >= scale.x0) on.reset();
      },
    },
  };
}
