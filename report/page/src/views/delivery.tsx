import type {ViewProps} from '../view-props.js';

export function DeliveryView(_props: ViewProps) {
  return <p class="empty">not yet</p>;
}
