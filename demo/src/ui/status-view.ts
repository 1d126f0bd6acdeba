import { describeStatus, type StatusLike, type StatusView } from '../words.js'
import { setText } from './dom.js'

/**
 * Shows a `status$` value on the badge (`data-tone` drives its colour) and the detail line. `view` says it
 * in other words (the page lifecycle's, from `ConnectionStory`); `data-lifecycle` then names the part of it.
 */
export function renderStatus(
  badge: HTMLElement,
  detail: HTMLElement | undefined,
  status: StatusLike,
  view: StatusView & { lifecycle?: string | undefined } = describeStatus(status),
): void {
  setText(badge, view.label)
  badge.dataset.tone = view.tone
  badge.dataset.status = status.type
  if (view.lifecycle) badge.dataset.lifecycle = view.lifecycle
  else delete badge.dataset.lifecycle
  badge.title = view.detail
  if (detail) setText(detail, view.detail)
}
