/** What a client does when the page tells it something (the connection lifecycle's methods). */
export interface PageReactions {
  /** The browser says the network is back. */
  online(): void
  /** The browser says the network is gone. */
  offline(): void
  /** The page is back: visible again, resumed from a freeze, or restored from the back-forward cache. */
  check(reason: 'visible' | 'resume' | 'pageshow'): void
}

/** Starts listening for one client; the function returned stops (the client calls it when it ends). */
export type PageLifecycle = (reactions: PageReactions) => () => void

/** Where the events come from: a window (or a worker's global scope, which has online/offline) and its document. */
export interface PageTarget {
  readonly window: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>
  readonly document?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> & { readonly visibilityState?: string }
}

function globalTarget(): PageTarget | undefined {
  const scope = globalThis as { addEventListener?: unknown; document?: PageTarget['document'] }
  if (typeof scope.addEventListener !== 'function') return undefined
  return { window: globalThis as unknown as PageTarget['window'], document: scope.document }
}

/**
 * Listens to the page lifecycle for one client: `online`/`offline` on the window, `visibilitychange` (to
 * visible) and `resume` on the document, and `pageshow` for a page restored from the back-forward cache. No
 * state outside the call: each client has listeners of its own, all removed by the function returned.
 *
 * @example
 * ```ts
 * const stop = listenToPage({ online: () => connection.online(), offline: () => connection.offline(), check: (why) => connection.check(why) })
 * stop()
 * ```
 */
export function listenToPage(reactions: PageReactions, target: PageTarget | undefined = globalTarget()): () => void {
  if (!target) return () => undefined
  const { window: win, document: doc } = target
  const listeners: Array<[Pick<EventTarget, 'addEventListener' | 'removeEventListener'>, string, (event: Event) => void]> = [
    [win, 'online', () => reactions.online()],
    [win, 'offline', () => reactions.offline()],
    [win, 'pageshow', (event) => {
      if ((event as PageTransitionEvent).persisted) reactions.check('pageshow')
    }],
  ]
  if (doc) {
    listeners.push(
      [doc, 'visibilitychange', () => {
        if (doc.visibilityState === 'visible') reactions.check('visible')
      }],
      [doc, 'resume', () => reactions.check('resume')],
    )
  }
  for (const [on, type, listener] of listeners) on.addEventListener(type, listener)
  return () => {
    for (const [on, type, listener] of listeners) on.removeEventListener(type, listener)
    listeners.length = 0
  }
}
