import type {ViewProps} from '../view-props.js';

export function OverviewView(_props: ViewProps) {
  return <p class="empty">not yet</p>;
}
