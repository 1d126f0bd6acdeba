/**
 * `npm run demo`: the embedded broker (aedes, TCP + WebSocket), the device simulator and the Vite dev
 * server for the page, in one process. Ctrl-C stops all three.
 *
 * Environment:
 *   MQTT_URL=ws://host:9001        use an existing broker for the page instead of the embedded one
 *   MQTT_TCP_URL=mqtt://host:1883  where the simulator connects (default: MQTT_URL's host, port 1883)
 *   MQTT_USERNAME, MQTT_PASSWORD   credentials for both
 *   DEMO_SIMULATOR=0               do not start the simulator
 *   DEMO_TCP_PORT, DEMO_WS_PORT, DEMO_PORT   ports to try first (1883, 9001, 5173); taken ports fall back to free ones
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createLogger, createServer, type Logger, type Plugin, type ViteDevServer } from 'vite'
import { startBroker, type EmbeddedBroker } from './broker.js'
import { startSimulator, type Simulator } from './simulator.js'
import type { DemoConfig } from './src/config.js'

export interface DemoOptions {
  /** A WebSocket URL of an existing broker, for the page. Without it the embedded broker starts. */
  mqttUrl?: string
  /** A TCP URL of the existing broker, for the simulator. Default: `mqttUrl`'s host on port 1883. */
  mqttTcpUrl?: string
  username?: string
  password?: string
  /** Start the simulator. Default true. */
  simulator?: boolean
  /** Ports to try first; taken ones fall back to free ports. Defaults 1883, 9001, 5173. */
  tcpPort?: number
  wsPort?: number
  webPort?: number
  /** Topic prefix of the simulator and the page. Default `demo`. */
  prefix?: string
  /** How long a simulated `reboot` lasts. */
  rebootMs?: number
  /** Where progress lines go. Default: stdout. */
  log?: (line: string) => void
  /** Vite's cache folder (pre-bundled dependencies). Default: Vite's, `node_modules/.vite`. */
  cacheDir?: string
}

export interface DemoStack {
  /** The page, e.g. `http://localhost:5173/`. */
  readonly pageUrl: string
  /** The broker URL the page connects to. */
  readonly wsUrl: string
  /** The broker URL the simulator connects to (when it runs). */
  readonly tcpUrl: string | undefined
  readonly broker: EmbeddedBroker | undefined
  readonly simulator: Simulator | undefined
  readonly server: ViteDevServer
  /** Stops the simulator (devices say offline), the web server and the broker. */
  stop(): Promise<void>
}

const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url))

/** Serves `/demo-config.json`: the page's broker URL and credentials, read by demo/src/config.ts. */
function demoConfigPlugin(config: Partial<DemoConfig>): Plugin {
  return {
    name: 'iotpubsub-demo-config',
    configureServer(server) {
      server.middlewares.use('/demo-config.json', (_req, res) => {
        res.setHeader('content-type', 'application/json')
        res.setHeader('cache-control', 'no-store')
        res.end(JSON.stringify(config))
      })
    },
  }
}

/** Vite's logger, silenced once the demo is stopping (Ctrl-C also stops esbuild, whose pending work then fails loudly). */
function quietableLogger(level: 'info' | 'warn'): { logger: Logger; silence: () => void } {
  const logger = createLogger(level)
  let silent = false
  return {
    logger: {
      ...logger,
      info: (msg, options) => void (silent || logger.info(msg, options)),
      warn: (msg, options) => void (silent || logger.warn(msg, options)),
      warnOnce: (msg, options) => void (silent || logger.warnOnce(msg, options)),
      error: (msg, options) => void (silent || logger.error(msg, options)),
    },
    silence: () => {
      silent = true
    },
  }
}

function tcpUrlFor(wsUrl: string): string {
  const url = new URL(wsUrl)
  return `${url.protocol === 'wss:' ? 'mqtts' : 'mqtt'}://${url.hostname}:${url.protocol === 'wss:' ? 8883 : 1883}`
}

/** Starts the whole demo. Used by `npm run demo` and by the end-to-end test (on free ports). */
export async function startDemo(options: DemoOptions = {}): Promise<DemoStack> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const prefix = options.prefix ?? 'demo'
  let broker: EmbeddedBroker | undefined
  let simulator: Simulator | undefined
  let server: ViteDevServer | undefined
  const vite = quietableLogger(process.env.DEMO_VITE_LOG === 'info' ? 'info' : 'warn')

  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= stopAll())
  const stopAll = async () => {
    vite.silence()
    await simulator?.stop().catch(() => {})
    await server?.close().catch(() => {})
    await broker?.close().catch(() => {})
  }

  try {
    let wsUrl: string
    let tcpUrl: string | undefined
    if (options.mqttUrl) {
      wsUrl = options.mqttUrl
      tcpUrl = options.mqttTcpUrl ?? tcpUrlFor(wsUrl)
      log(`Using the broker at ${wsUrl} (simulator: ${tcpUrl})`)
    } else {
      broker = await startBroker({ tcpPort: options.tcpPort ?? 1883, wsPort: options.wsPort ?? 9001 })
      wsUrl = broker.wsUrl
      tcpUrl = broker.tcpUrl
      log(`Embedded MQTT broker (aedes, MQTT 3.1.1): ${broker.tcpUrl} and ${broker.wsUrl}`)
    }

    if (options.simulator ?? true) {
      try {
        simulator = await startSimulator({
          url: tcpUrl,
          username: options.username,
          password: options.password,
          prefix,
          rebootMs: options.rebootMs,
          connectTimeout: 10_000,
        })
        log(`Simulator: ${simulator.devices.length} devices publishing under ${prefix}/devices/`)
      } catch (error) {
        if (!options.mqttUrl) throw error
        log(`Simulator not started: ${(error as Error).message}`)
      }
    }

    const pageConfig: Partial<DemoConfig> = {
      url: wsUrl,
      prefix,
      simulator: simulator !== undefined,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
    }
    server = await createServer({
      configFile,
      clearScreen: false,
      customLogger: vite.logger,
      server: { port: options.webPort ?? 5173, strictPort: false },
      plugins: [demoConfigPlugin(pageConfig)],
      // The page's only dependencies, pre-bundled at start: no crawl of the source, so the first page load
      // never triggers a re-optimise-and-reload, and a quick stop never interrupts a scan.
      optimizeDeps: { include: ['mqtt', 'rxjs'], noDiscovery: true },
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    })
    await server.listen()
    const pageUrl = server.resolvedUrls?.local[0] ?? `http://localhost:${server.config.server.port}/`
    return { pageUrl, wsUrl, tcpUrl: simulator ? tcpUrl : undefined, broker, simulator, server, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function port(name: string): number | undefined {
  const value = process.env[name]
  return value ? Number(value) : undefined
}

async function main(): Promise<void> {
  const stack = await startDemo({
    mqttUrl: process.env.MQTT_URL || undefined,
    mqttTcpUrl: process.env.MQTT_TCP_URL || undefined,
    username: process.env.MQTT_USERNAME || undefined,
    password: process.env.MQTT_PASSWORD || undefined,
    simulator: process.env.DEMO_SIMULATOR !== '0',
    tcpPort: port('DEMO_TCP_PORT'),
    wsPort: port('DEMO_WS_PORT'),
    webPort: port('DEMO_PORT'),
  })
  process.stdout.write(`\n  Dashboard: ${stack.pageUrl}\n\n  Press Ctrl-C to stop.\n\n`)
  // A terminal's Ctrl-C reaches every process of the group, and the tsx CLI relays it once more: the first
  // signal starts a clean stop, repeats within 3 s are that same Ctrl-C, a later one forces the exit.
  let firstSignal: number | undefined
  const shutdown = (signal: NodeJS.Signals) => {
    if (firstSignal !== undefined) {
      if (Date.now() - firstSignal < 3_000) return
      process.stdout.write(`Second ${signal}: exiting now.\n`)
      process.exit(1)
    }
    firstSignal = Date.now()
    process.stdout.write(`\n${signal}: stopping the simulator, the web server and the broker…\n`)
    stack.stop().then(
      () => {
        process.stdout.write('Stopped.\n')
        process.exit(0)
      },
      (error: unknown) => {
        process.stderr.write(`Error while stopping: ${String(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`The demo could not start: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
