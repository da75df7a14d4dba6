/**
 * Draws a view only once it comes near the screen: the page opens fast on
 * a million-event report, and views below the fold pay their indexing cost
 * when a reader scrolls to them, not before the first paint.
 */
import type {ComponentChildren} from 'preact';
import {useEffect, useRef, useState} from 'preact/hooks';

export function WhenVisible(props: {minHeight: number; children: () => ComponentChildren}) {
  const ref = useRef<HTMLDivElement>(null);
  const [seen, setSeen] = useState(typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    if (seen || !ref.current) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        setSeen(true);
        io.disconnect();
      }
    }, {rootMargin: '300px 0px'});
    io.observe(ref.current);
    return () => io.disconnect();
  }, [seen]);
  if (seen) return <>{props.children()}</>;
  return (
    <div ref={ref} style={{minHeight: `${props.minHeight}px`, color: '#888', fontSize: '12px'}}>
      drawing when scrolled into view…
    </div>
  );
}
