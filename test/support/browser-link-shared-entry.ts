// `iotpubsub/shared` as the test pages bundle it, with the link under test as the default (see
// browser-link-entry.ts).
import { connect as connectWith, MQTTClient as Client, type ClientOptions, type MQTTClientOptions } from '../../lib/shared/index.js'

export * from '../../lib/shared/index.js'

declare const __LINK_UNDER_TEST__: 'lean' | 'mqttjs'

export function connect(url: string | readonly string[], options: ClientOptions = {}): InstanceType<typeof Client> {
  return connectWith(url, { link: __LINK_UNDER_TEST__, ...options })
}

export const MQTTClient = class extends Client {
  constructor(options: MQTTClientOptions) {
    super({ link: __LINK_UNDER_TEST__, ...options })
  }
} as typeof Client
