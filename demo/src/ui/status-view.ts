import { describeStatus, type StatusLike } from '../words.js'
import { setText } from './dom.js'

/** Shows a `status$` value on the badge (`data-tone` drives its colour) and the detail line. */
export function renderStatus(badge: HTMLElement, detail: HTMLElement | undefined, status: StatusLike): void {
  const view = describeStatus(status)
  setText(badge, view.label)
  badge.dataset.tone = view.tone
  badge.dataset.status = status.type
  badge.title = view.detail
  if (detail) setText(detail, view.detail)
}
