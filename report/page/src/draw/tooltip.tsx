/** One floating tooltip for canvas marks, which have no title attribute of their own. */
import {useCallback, useState} from 'preact/hooks';

export interface Tip {
  x: number;
  y: number;
  text: string;
}

export function useTooltip(): {tip: Tip | undefined; show(x: number, y: number, text: string | undefined): void; hide(): void} {
  const [tip, setTip] = useState<Tip | undefined>(undefined);
  const show = useCallback((x: number, y: number, text: string | undefined) => setTip(text ? {x, y, text} : undefined), []);
  const hide = useCallback(() => setTip(undefined), []);
  return {tip, show, hide};
}

export function Tooltip({tip}: {tip: Tip | undefined}) {
  if (!tip) return null;
  const left = Math.min(tip.x + 14, window.innerWidth - 430);
  return (
    <div class="tip" style={{left: `${Math.max(4, left)}px`, top: `${tip.y + 16}px`}}>
      {tip.text}
    </div>
  );
}
