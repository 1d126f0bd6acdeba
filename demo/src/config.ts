/** What the page connects to on load. */
export interface DemoConfig {
  url: string
  username: string
  password: string
  protocolVersion: 'auto' | 4 | 5
  /** The simulator's topic prefix (device cards read `{prefix}/devices/+/…`). */
  prefix: string
  /** Subscriptions the page starts with. */
  subscriptions: string[]
  /** Whether a simulator (and its stress generator) is expected. */
  simulator: boolean
  /** The SDK's `link` (`?link=lean` or `?link=mqttjs`); the browser's default (lean) when absent. */
  link?: 'lean' | 'mqttjs'
}

/**
 * The configuration, from three places, later ones winning: defaults (`ws://<page host>:9001`), the
 * `/demo-config.json` that `npm run demo` serves (its broker's URL and credentials), and the query string
 * (`?url=ws://host:9001&username=…&prefix=…`), so a static build can point anywhere.
 */
export function resolveConfig(location: { hostname: string; search: string; protocol: string }, served: unknown): DemoConfig {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const config: DemoConfig = {
    url: `${scheme}://${location.hostname || 'localhost'}:9001`,
    username: '',
    password: '',
    protocolVersion: 'auto',
    prefix: 'demo',
    subscriptions: [],
    simulator: true,
  }
  if (typeof served === 'object' && served !== null) {
    const s = served as Partial<Record<keyof DemoConfig, unknown>>
    if (typeof s.url === 'string') config.url = s.url
    if (typeof s.username === 'string') config.username = s.username
    if (typeof s.password === 'string') config.password = s.password
    if (s.protocolVersion === 4 || s.protocolVersion === 5 || s.protocolVersion === 'auto') config.protocolVersion = s.protocolVersion
    if (typeof s.prefix === 'string' && s.prefix !== '') config.prefix = s.prefix
    if (typeof s.simulator === 'boolean') config.simulator = s.simulator
    if (Array.isArray(s.subscriptions)) config.subscriptions = s.subscriptions.filter((f): f is string => typeof f === 'string')
  }
  const query = new URLSearchParams(location.search)
  config.url = query.get('url') ?? config.url
  config.username = query.get('username') ?? config.username
  config.password = query.get('password') ?? config.password
  const protocol = query.get('protocol')
  if (protocol === '4' || protocol === '5') config.protocolVersion = Number(protocol) as 4 | 5
  if (protocol === 'auto') config.protocolVersion = 'auto'
  config.prefix = query.get('prefix') || config.prefix
  const link = query.get('link')
  if (link === 'lean' || link === 'mqttjs') config.link = link
  const subs = query.getAll('sub')
  if (subs.length > 0) config.subscriptions = subs
  if (config.subscriptions.length === 0) config.subscriptions = [`${config.prefix}/#`]
  return config
}

/** Fetches `/demo-config.json` if the server provides one (the `npm run demo` dev server does). */
export async function fetchServedConfig(fetcher: typeof fetch = fetch): Promise<unknown> {
  try {
    const response = await fetcher('demo-config.json', { cache: 'no-store' })
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return undefined
    return (await response.json()) as unknown
  } catch {
    return undefined
  }
}
