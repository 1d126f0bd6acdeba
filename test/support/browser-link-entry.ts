// The browser entries as the test pages bundle them: the same API, with the link under test
// (IOTPUBSUB_LINK of the vitest project, baked in by the bundler as __LINK_UNDER_TEST__) as the default, so
// that every browser suite runs over both links. A page's own `link` option still wins.
import { connect as connectWith, MQTTClient as Client, type ClientOptions, type MQTTClientOptions } from '../../lib/browser.js'

export * from '../../lib/browser.js'

declare const __LINK_UNDER_TEST__: 'lean' | 'mqttjs'

export function connect(url: string | readonly string[], options: ClientOptions = {}): InstanceType<typeof Client> {
  return connectWith(url, { link: __LINK_UNDER_TEST__, ...options })
}

export const MQTTClient = class extends Client {
  constructor(options: MQTTClientOptions) {
    super({ link: __LINK_UNDER_TEST__, ...options })
  }
} as typeof Client
