import type {ViewProps} from '../view-props.js';

export function MatrixView(_props: ViewProps) {
  return <p class="empty">not yet</p>;
}
