import type {ViewProps} from '../view-props.js';

export function SequenceView(_props: ViewProps) {
  return <p class="empty">not yet</p>;
}
