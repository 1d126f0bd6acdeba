/**
 * What a browser gives the client: the platform's URL rules, the links to open, timers, the debug switch and
 * the page lifecycle. One object, shared by the browser entry (lib/browser.ts) and by `iotpubsub/shared`
 * (lib/shared/index.ts), which differ only in whether the tabs share a connection.
 */
import { debugConsole } from './log/debug-console.js'
import type { ClientRuntime } from './client/client.js'
import { lazyLinks } from './link/mqttjs/lazy-link.js'
import { leanLinks } from './link/lean/lean-link.js'
import { linkKit } from './link/link-kit.js'
import type { LinkEvents, LinkSettings } from './link/link.js'
import type { Intervals } from './link/sign-of-life.js'
import { listenToPage } from './lifecycle/page-lifecycle.js'
import { lazyIntervals } from './lifecycle/lazy-intervals.js'
import { browserPlatform } from './options/endpoints.js'
import { openBrowserWebSocket } from './transport/browser-websocket.js'

// The keepalive's timers in a Worker of each client's own: a hidden tab's timers are throttled to one a minute.
// Their code is a chunk of its own, loaded as the link is made (the page's timers run until it is there).
const workerIntervals = (): Intervals => lazyIntervals(() => import('./lifecycle/worker-intervals.js').then((m) => m.workerIntervals()))
const lean = leanLinks(openBrowserWebSocket, workerIntervals)
// MQTT.js only when asked for (`link: 'mqttjs'`): a chunk of its own, loaded as the client connects.
const mqttJs = lazyLinks(() => import('./link/mqttjs/mqttjs-link.js').then((m) => m.mqttJsLinks({ ...linkKit, streamsOf: m.browserStreamsOf }, workerIntervals)))

/**
 * The browser's runtime for a client, frozen.
 *
 * @example
 * ```ts
 * const client = new Client(options, browserRuntime)
 * ```
 */
export const browserRuntime: ClientRuntime = Object.freeze({
  platform: browserPlatform,
  links: (settings: LinkSettings, events: LinkEvents) => (settings.link === 'mqttjs' ? mqttJs : lean)(settings, events),
  defaultLink: () => 'lean' as const,
  defer: (callback: () => void) => setTimeout(callback, 0),
  // localStorage.setItem('iotpubsub:debug', '1') in the devtools console (then reload) turns the debug log on
  // ('trace': each publish and its outcome too).
  debugLogger: () => debugConsole(debugSwitch()),
  lifecycle: listenToPage,
})

function debugSwitch(): string | null | undefined {
  try {
    return globalThis.localStorage?.getItem('iotpubsub:debug')
  } catch {
    // Storage can be off limits (sandboxed frames, some privacy modes): no switch then.
    return undefined
  }
}
