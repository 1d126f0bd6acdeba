/**
 * The dashboard's wiring: one iotpubsub client, the page's subscriptions as Observables, models updated
 * per message, views redrawn at most once per animation frame. Everything else lives in small modules:
 * models (feed, topic-tree, devices, rate, sharing, connection-story) and views (ui/*), each testable on its own.
 * The client shares its connection with the dashboard's other tabs (`connect` from `iotpubsub/shared`): the
 * tabs of one browser connect with the same client id, so they make one connection at the broker.
 */
import { connect, parseFilter, topic, type Message, type MQTTClient, type QoS, type Status } from 'iotpubsub/shared'
// The main entry's connect(), for the devtools console only: a client with a connection of its own.
import { connect as connectOwn } from 'iotpubsub'
import type { Subscription } from 'rxjs'
import { fetchServedConfig, resolveConfig, type DemoConfig } from './config.js'
import { ConnectionStory } from './connection-story.js'
import { DeviceStore, type CommandReply, type DeviceMeta } from './devices.js'
import { Feed } from './feed.js'
import { FrameScheduler } from './frame.js'
import { decodePayload } from './payload.js'
import { ProtocolLog, consoleSwitch, teeLogger } from './protocol-log.js'
import { RateMeter, formatCount, formatRate } from './rate.js'
import { BrokerClients, SYS_CLIENTS, SharingRole, TabPresence, defaultClientId, describeBrokerCount, describeRole, roleLogger, type LocksLike } from './sharing.js'
import { TopicTree } from './topic-tree.js'
import { DevicesView } from './ui/devices-view.js'
import { byId, setText } from './ui/dom.js'
import { FeedView } from './ui/feed-view.js'
import { LogView } from './ui/log-view.js'
import { renderStatus } from './ui/status-view.js'
import { SubscriptionsView, type SubscriptionRow } from './ui/subscriptions-view.js'
import { TreeView } from './ui/tree-view.js'
import { describeError } from './words.js'

interface UserSubscription extends SubscriptionRow {
  readonly qos: QoS
  rx: Subscription | undefined
}

/** Nothing granted yet: until the client's `subscriptions$` reports the SUBACK. */
const NOT_GRANTED: ReadonlyMap<string, QoS | undefined> = new Map()

const randomId = () => Math.random().toString(16).slice(2, 8)

// The most often each view redraws (ms): device cards every frame, the busy lists a few times a second.
const FEED_MS = 100
const TREE_MS = 200
const STATS_MS = 250
const LOG_MS = 100

class Dashboard {
  private client: MQTTClient | undefined
  private clientRx: Subscription[] = []
  private readonly subs = new Map<string, UserSubscription>()
  private readonly feed = new Feed(1_000)
  private readonly tree = new TopicTree()
  private readonly devices = new DeviceStore()
  private readonly total = new RateMeter()
  private readonly frames = new FrameScheduler()
  /** The SDK's debug log (the `logger` option), for the protocol log panel. */
  private readonly log = new ProtocolLog(200, () => this.frames.request('log', () => this.logView.render(), LOG_MS))
  /** Raw payloads already counted in this task: one wire message reaching two overlapping subscriptions. */
  private readonly delivered = new Set<Uint8Array>()
  private status: Status | undefined
  /** The badge's words: the status, and what the page lifecycle had to do with it. */
  private readonly story = new ConnectionStory()
  /** This tab's part in the shared connection (holds it, or uses another tab's), from the client's log. */
  private role: SharingRole | undefined
  /** This browser's tabs connected with the same settings, and how many there were at the last look. */
  private readonly presence = new TabPresence((navigator as Navigator & { locks?: LocksLike }).locks)
  private tabs: number | undefined
  /** The broker's connection count, from `{prefix}/broker/clients` or `$SYS/broker/clients/connected`. */
  private readonly brokerClients: BrokerClients
  /** Bumped by every connect and disconnect: a connect still waiting for the old client's end gives up. */
  private connectRun = 0
  /** Granted QoS per broker subscription, from `client.subscriptions$`. */
  private granted: ReadonlyMap<string, QoS | undefined> = NOT_GRANTED

  private readonly feedView = new FeedView(this.feed, byId('feed'), byId('feed-info'))
  private readonly treeView = new TreeView(this.tree, byId('tree'))
  private readonly devicesView = new DevicesView(this.devices, byId('devices'), { command: (id, command, value) => void this.sendCommand(id, command, value) })
  private readonly subsView = new SubscriptionsView(byId('subscriptions'), (filter) => this.unsubscribe(filter))
  private readonly logView = new LogView(
    this.log,
    {
      toggle: byId<HTMLButtonElement>('log-toggle'),
      body: byId('log-body'),
      tools: byId('log-tools'),
      list: byId('log'),
      info: byId('log-info'),
      empty: byId('log-empty'),
      level: byId<HTMLSelectElement>('log-level'),
      event: byId<HTMLSelectElement>('log-event'),
      clear: byId<HTMLButtonElement>('log-clear'),
      alert: byId('log-alert'),
    },
    { schedule: (render) => this.frames.request('log', render) },
  )
  /**
   * The panel's logger; with the SDK's browser switch on (`localStorage.setItem('iotpubsub:debug', '1')`) the
   * console's too: a client with a logger of its own ignores the switch, so the page honours it itself.
   */
  private readonly logger = consoleSwitch(() => globalThis.localStorage) ? teeLogger(this.log.logger, console) : this.log.logger

  constructor(private readonly config: DemoConfig) {
    this.brokerClients = new BrokerClients(`${config.prefix}/broker/clients`)
  }

  start(): void {
    this.bindForms()
    setText(byId('devices-prefix'), `${this.config.prefix}/devices/+/…`)
    if (!this.config.simulator) byId('stress-btn').hidden = true
    for (const filter of this.config.subscriptions) this.subscribe(filter, 0)
    // The SDK tries at once when the browser is back online; the badge says how soon the connection followed.
    addEventListener('online', () => this.story.online(performance.now()))
    void this.connect()
    // Rates decay and "updated … ago" ages even when nothing arrives; tabs open and close.
    setInterval(() => {
      this.requestAll()
      void this.countTabs()
    }, 1_000)
  }

  // ---- connection -------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const form = this.formValues()
    const run = ++this.connectRun
    // The tab's previous client ends first: sharing the connection with itself for a moment would look like a
    // handover to another tab.
    await this.disconnect()
    if (run !== this.connectRun) return
    const role = new SharingRole()
    let client: MQTTClient
    try {
      // From 'iotpubsub/shared': the tabs of this origin with the same URL, client id and credentials share one
      // broker connection.
      client = connect(form.url, {
        clientId: form.clientId || undefined,
        username: form.username || undefined,
        password: form.password || undefined,
        protocolVersion: form.protocol,
        ...(this.config.link ? { link: this.config.link } : {}),
        logger: teeLogger(this.logger, roleLogger(role)),
      })
    } catch (error) {
      setText(byId('client-errors'), describeError(error))
      return
    }
    this.client = client
    this.role = role
    this.presence.join([form.url, form.clientId, form.username, form.password])
    void this.countTabs()
    setText(byId('client-errors'), '')
    const prefix = this.config.prefix.split('/')
    // topic() builds names from trusted segments and rejects wildcards in them: filters are plain strings.
    const devices = (leaf: string) => `${this.config.prefix}/devices/+/${leaf}`
    const ignore = () => {}
    this.clientRx = [
      client.status$.subscribe((status) => {
        this.status = status
        role.update(status)
        this.story.update(status, performance.now())
        // The broker's count is not forgotten on a reconnect: the SDK passes on a retained message again only
        // when it differs from the one its observers have (MQTT 3.1.1 brokers send them again on SUBSCRIBE).
        this.frames.request('status', () => this.renderStatus())
      }),
      client.errors$.subscribe((error) => setText(byId('client-errors'), describeError(error))),
      // Which subscriptions the broker has acknowledged, and with what QoS.
      client.subscriptions$.subscribe((list) => {
        this.granted = new Map(list.map((info) => [info.filter, info.grantedQos]))
        this.frames.request('subs', () => this.renderSubs())
      }),
      // Device cards: four observers; `params[0]` is the device id the `+` matched.
      client.observe<DeviceMeta>(devices('meta'), { qos: 1, codec: 'json' }).subscribe({
        next: (m) => this.devicesChanged(() => this.devices.meta(m.params[0] as string, m.payload)),
        error: ignore,
      }),
      client.observe(devices('status'), { qos: 1, codec: 'text' }).subscribe({
        next: (m) => this.devicesChanged(() => this.devices.status(m.params[0] as string, m.payload)),
        error: ignore,
      }),
      client.observe<Record<string, unknown>>(devices('telemetry'), { codec: 'json' }).subscribe({
        next: (m) => this.devicesChanged(() => this.devices.telemetry(m.params[0] as string, m.payload, Date.now())),
        error: ignore,
      }),
      client.observe<CommandReply>(devices('reply'), { qos: 1, codec: 'json' }).subscribe({
        next: (m) => this.devicesChanged(() => this.devices.reply(m.params[0] as string, m.payload, performance.now())),
        error: ignore,
      }),
      client.observe<CommandReply>(topic(...prefix, 'simulator', 'reply'), { qos: 1, codec: 'json' }).subscribe({
        next: (m) => this.onSimulatorReply(m.payload),
        error: ignore,
      }),
      // The broker's connection count: the embedded broker's retained one, else Mosquitto's $SYS topic.
      client.observe(this.brokerClients.demoTopic, { codec: 'json' }).subscribe({
        next: (m) => this.brokerChanged(this.brokerClients.fromDemo(m.payload)),
        error: ignore,
      }),
      client.observe(SYS_CLIENTS, { codec: 'text' }).subscribe({
        next: (m) => this.brokerChanged(this.brokerClients.fromSys(m.payload)),
        error: ignore,
      }),
    ]
    for (const sub of this.subs.values()) this.observe(sub)
  }

  private async disconnect(): Promise<void> {
    const client = this.client
    if (!client) return
    for (const sub of this.subs.values()) sub.rx?.unsubscribe()
    for (const rx of this.clientRx) rx.unsubscribe()
    this.clientRx = []
    this.client = undefined
    this.role = undefined
    this.presence.leave()
    this.tabs = undefined
    this.brokerClients.clear()
    this.granted = NOT_GRANTED
    this.status = { type: 'closed', error: undefined }
    this.story.update(this.status, performance.now())
    this.frames.request('status', () => this.renderStatus())
    await client.end().catch(() => {})
  }

  private renderStatus(): void {
    if (!this.status) return
    renderStatus(byId('status-badge'), byId('status-detail'), this.status, this.story.view())
    const connected = this.status.type === 'connected'
    byId<HTMLButtonElement>('disconnect-btn').disabled = this.client === undefined
    byId<HTMLButtonElement>('stress-btn').disabled = !connected
    this.renderSharing()
  }

  /** Who holds the connection, how many tabs share it, how many connections the broker has. */
  private renderSharing(): void {
    const role = this.role?.role ?? 'off'
    const line = byId('conn-sharing')
    line.dataset.role = role
    if (this.tabs === undefined) delete line.dataset.tabs
    else line.dataset.tabs = String(this.tabs)
    setText(line, describeRole(role, this.tabs))
    const connected = this.status?.type === 'connected'
    const count = connected ? this.brokerClients.current : undefined
    const broker = byId('conn-broker')
    if (count) broker.dataset.connections = String(count.connected)
    else delete broker.dataset.connections
    setText(broker, describeBrokerCount(count, this.client?.clientId ?? '', connected))
    broker.title = count?.clients ? `Connected clients: ${count.clients.join(', ')}` : ''
    setText(byId('broker-count'), count ? formatCount(count.connected) : connected ? '?' : '–')
    // A tab using another tab's connection logs no protocol events of its own: they are in the holding tab's log.
    byId('log-shared').hidden = role !== 'follower'
  }

  private brokerChanged(changed: boolean): void {
    if (changed) this.frames.request('sharing', () => this.renderSharing())
  }

  private async countTabs(): Promise<void> {
    const tabs = await this.presence.count()
    if (tabs === this.tabs) return
    this.tabs = tabs
    this.frames.request('sharing', () => this.renderSharing())
  }

  private formValues() {
    const value = (id: string) => byId<HTMLInputElement>(id).value.trim()
    const protocol = value('conn-protocol')
    return {
      url: value('conn-url'),
      clientId: value('conn-client-id'),
      username: value('conn-username'),
      password: byId<HTMLInputElement>('conn-password').value,
      protocol: (protocol === '4' ? 4 : protocol === '5' ? 5 : 'auto') as 4 | 5 | 'auto',
    }
  }

  // ---- subscriptions ----------------------------------------------------------------------------------

  /** Adds a user subscription; returns an error in plain words, or undefined. */
  private subscribe(filter: string, qos: QoS): string | undefined {
    try {
      parseFilter(filter)
    } catch (error) {
      return describeError(error)
    }
    if (this.subs.has(filter)) return `You are already subscribed to ${filter}.`
    const sub: UserSubscription = { filter, qos, meter: new RateMeter(), error: undefined, granted: undefined, rx: undefined }
    this.subs.set(filter, sub)
    if (this.client) this.observe(sub)
    this.frames.request('subs', () => this.renderSubs())
    return undefined
  }

  private observe(sub: UserSubscription): void {
    const client = this.client
    if (!client) return
    sub.error = undefined
    sub.rx = client.observe(sub.filter, { qos: sub.qos }).subscribe({
      next: (message) => this.onMessage(sub, message),
      error: (error: unknown) => {
        sub.error = describeError(error)
        this.frames.request('subs', () => this.renderSubs())
      },
    })
  }

  private unsubscribe(filter: string): void {
    this.subs.get(filter)?.rx?.unsubscribe()
    this.subs.delete(filter)
    this.frames.request('subs', () => this.renderSubs())
  }

  private onMessage(sub: UserSubscription, message: Message<Uint8Array>): void {
    const now = performance.now()
    sub.meter.mark(now)
    this.frames.request('subs', () => this.renderSubs(), STATS_MS)
    if (this.delivered.has(message.raw)) return
    if (this.delivered.size === 0) queueMicrotask(() => this.delivered.clear())
    this.delivered.add(message.raw)
    this.total.mark(now)
    const payload = decodePayload(message.raw)
    const time = Date.now()
    this.feed.push({ topic: message.topic, payload, qos: message.qos, retain: message.retain, time, via: sub.filter })
    this.tree.add(message.topic, payload, time, message.retain, message.qos)
    this.frames.request('feed', () => this.feedView.render(), FEED_MS)
    this.frames.request('tree', () => this.renderTree(), TREE_MS)
    this.frames.request('header', () => this.renderHeader(), STATS_MS)
  }

  private renderSubs(): void {
    for (const sub of this.subs.values()) sub.granted = this.granted.get(sub.filter)
    this.subsView.render(this.subs.values(), performance.now())
  }

  private renderTree(): void {
    this.treeView.render()
    const dropped = this.tree.dropped > 0 ? ` · ${formatCount(this.tree.dropped)} not shown (limit ${this.tree.maxTopics})` : ''
    setText(byId('tree-info'), `${formatCount(this.tree.size)} topics${dropped}`)
  }

  private renderHeader(): void {
    setText(byId('total-rate'), formatRate(this.total.rate(performance.now())))
    setText(byId('total-count'), formatCount(this.total.total))
    const online = this.devices.list().filter((d) => d.status === 'online').length
    setText(byId('device-count'), `${online}/${this.devices.size}`)
  }

  // ---- devices ----------------------------------------------------------------------------------------

  private devicesChanged(update: () => void): void {
    update()
    this.frames.request('devices', () => this.renderDevices())
    this.frames.request('header', () => this.renderHeader(), STATS_MS)
  }

  private renderDevices(): void {
    this.devicesView.render(Date.now())
    byId('devices-empty').hidden = this.devices.size > 0
  }

  private async sendCommand(deviceId: string, command: string, value?: number): Promise<void> {
    const id = randomId()
    this.devicesChanged(() => this.devices.commandSent(deviceId, id, command, performance.now()))
    try {
      if (!this.client) throw new Error('Not connected: connect to a broker first.')
      const target = topic(...this.config.prefix.split('/'), 'devices', deviceId, 'cmd')
      await this.client.publish(target, value === undefined ? { id, command } : { id, command, value }, { qos: 1, timeout: 10_000 })
    } catch (error) {
      this.devicesChanged(() => this.devices.commandFailed(deviceId, id, describeError(error), performance.now()))
    }
  }

  private async stress(): Promise<void> {
    const button = byId<HTMLButtonElement>('stress-btn')
    if (!this.client) return
    button.disabled = true
    setText(button, 'Starting…')
    try {
      await this.client.publish(topic(...this.config.prefix.split('/'), 'simulator', 'cmd'), { id: randomId(), command: 'stress', rate: 2_000, seconds: 10 }, { qos: 1, timeout: 5_000 })
      setTimeout(() => {
        if (button.textContent === 'Starting…') setText(button, 'No simulator answered')
      }, 3_000)
      setTimeout(() => {
        button.disabled = this.status?.type !== 'connected'
        setText(button, 'Stress test · 2,000 msg/s')
      }, 10_500)
    } catch (error) {
      setText(button, 'Stress test · 2,000 msg/s')
      button.disabled = false
      setText(byId('client-errors'), describeError(error))
    }
  }

  private onSimulatorReply(reply: CommandReply): void {
    if (reply.command === 'stress' && reply.ok) setText(byId('stress-btn'), 'Stress running · 10 s')
  }

  // ---- forms ------------------------------------------------------------------------------------------

  private bindForms(): void {
    byId<HTMLInputElement>('conn-url').value = this.config.url
    // One id for every tab of this browser (kept in localStorage): the tabs share one connection.
    byId<HTMLInputElement>('conn-client-id').value = defaultClientId(() => globalThis.localStorage)
    byId<HTMLInputElement>('conn-username').value = this.config.username
    byId<HTMLInputElement>('conn-password').value = this.config.password
    byId<HTMLSelectElement>('conn-protocol').value = String(this.config.protocolVersion)
    byId<HTMLInputElement>('pub-topic').value = `${this.config.prefix}/hello`

    byId('connect-form').addEventListener('submit', (event) => {
      event.preventDefault()
      void this.connect()
    })
    byId('disconnect-btn').addEventListener('click', () => {
      this.connectRun += 1
      void this.disconnect()
    })
    byId('stress-btn').addEventListener('click', () => void this.stress())

    byId('subscribe-form').addEventListener('submit', (event) => {
      event.preventDefault()
      const input = byId<HTMLInputElement>('sub-filter')
      const error = this.subscribe(input.value.trim(), Number(byId<HTMLSelectElement>('sub-qos').value) as QoS)
      setText(byId('sub-error'), error ?? '')
      if (!error) input.value = ''
    })

    byId('publish-form').addEventListener('submit', (event) => {
      event.preventDefault()
      void this.publish()
    })

    const filter = byId<HTMLInputElement>('feed-filter')
    filter.addEventListener('input', () => {
      this.feed.setFilter(filter.value)
      this.frames.request('feed', () => this.feedView.render())
    })
    const pause = byId<HTMLButtonElement>('feed-pause')
    pause.addEventListener('click', () => {
      if (this.feed.paused) this.feed.resume()
      else this.feed.pause()
      setText(pause, this.feed.paused ? 'Resume' : 'Pause')
      pause.setAttribute('aria-pressed', String(this.feed.paused))
      this.frames.request('feed', () => this.feedView.render())
    })
    byId('feed-clear').addEventListener('click', () => {
      this.feed.clear()
      this.feedView.invalidate()
      this.frames.request('feed', () => this.feedView.render())
    })
  }

  private async publish(): Promise<void> {
    const result = byId('pub-result')
    const target = byId<HTMLInputElement>('pub-topic').value.trim()
    const payload = byId<HTMLTextAreaElement>('pub-payload').value
    const qos = Number(byId<HTMLSelectElement>('pub-qos').value) as QoS
    const retain = byId<HTMLInputElement>('pub-retain').checked
    result.dataset.state = 'pending'
    setText(result, 'Publishing…')
    try {
      if (!this.client) throw new Error('Not connected: connect to a broker first.')
      // Throws InvalidTopicError at once for a bad topic; rejects with PublishError if the broker refuses.
      await this.client.publish(target, payload, { qos, retain, timeout: 10_000 })
      result.dataset.state = 'ok'
      setText(result, `Published to ${target} (QoS ${qos}${retain ? ', retained' : ''})${qos > 0 ? ', acknowledged by the broker' : ''}.`)
    } catch (error) {
      result.dataset.state = 'error'
      setText(result, describeError(error))
    }
  }

  private requestAll(): void {
    this.frames.request('subs', () => this.renderSubs())
    this.frames.request('devices', () => this.renderDevices())
    this.frames.request('header', () => this.renderHeader())
  }
}

const config = resolveConfig(location, await fetchServedConfig())
const dashboard = new Dashboard(config)
dashboard.start()
// For tests and curious developers (devtools console): the resolved configuration, and the SDK's connect() to
// try a client of your own, e.g. `iotpubsubDemo.connect(iotpubsubDemo.config.url)`: the one from 'iotpubsub',
// whose client has a connection of its own (the page's client shares the tabs' connection).
;(window as unknown as { iotpubsubDemo: unknown }).iotpubsubDemo = { config, connect: connectOwn }
