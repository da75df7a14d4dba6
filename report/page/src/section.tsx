/**
 * A view's section, drawn only while it is on screen or near it: a view far
 * off screen is not rendered at first, and keeps its last picture, without
 * redrawing, while the cursor moves elsewhere. So opening a large report
 * draws what is in sight first, and scrubbing costs only the views in sight.
 */
import {Component, type ComponentChildren} from 'preact';
import {useEffect, useRef, useState} from 'preact/hooks';

class Frozen extends Component<{frozen: boolean; children: ComponentChildren}> {
  override shouldComponentUpdate(next: {frozen: boolean}): boolean {
    return !next.frozen;
  }
  override render() {
    return <>{this.props.children}</>;
  }
}

export function Section({id, title, about, children}: {id: string; title: string; about: string; children: ComponentChildren}) {
  const ref = useRef<HTMLElement>(null);
  const [near, setNear] = useState(false);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // A quarter screen above and below counts as near: a view is drawn just before it scrolls in.
    // Each section takes its turn in a task of its own: views that come near together (the sequence diagram and the
    // delivery matrix of a million deliveries) were drawn in one long task.
    // A view that came near and was pushed away again before its turn (the views above it drew and grew) is still
    // drawn: cancelling its turn left it blank where the reader had scrolled to it, until scrolled to once more.
    let turn: ReturnType<typeof setTimeout> | undefined;
    let cameNear = false;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) cameNear = true;
        const on = entries[entries.length - 1]!.isIntersecting;
        clearTimeout(turn);
        turn = setTimeout(() => {
          setNear(on);
          if (cameNear) setSeen(true);
        }, 0);
      },
      {rootMargin: '25% 0px 25% 0px'},
    );
    observer.observe(el);
    // Printed, every view is on paper: draw them all first.
    const print = () => {
      setSeen(true);
      setNear(true);
    };
    window.addEventListener('beforeprint', print);
    return () => {
      clearTimeout(turn);
      observer.disconnect();
      window.removeEventListener('beforeprint', print);
    };
  }, []);
  return (
    <section id={id} class={`view${seen ? '' : ' unseen'}`} ref={ref}>
      <h2>{title}</h2>
      <p class="about">{about}</p>
      {seen && <Frozen frozen={!near}>{children}</Frozen>}
    </section>
  );
}
