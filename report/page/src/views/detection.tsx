import type {ViewProps} from '../view-props.js';

export function DetectionView(_props: ViewProps) {
  return <p class="empty">not yet</p>;
}
