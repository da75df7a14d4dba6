import type {ViewProps} from '../view-props.js';

export interface LogProps extends ViewProps {
  selectedEvent: number | undefined;
  selectEvent(index: number | undefined): void;
}

export function LogView(_props: LogProps) {
  return <p class="empty">not yet</p>;
}
