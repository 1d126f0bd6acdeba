// The flood page on iotpubsub/react: 50 widgets, each `useTopic` on its own topic, JSON payloads, with the
// throttle named in the page's query ('frame', a number of ms, or 'false').
import { createElement as h, type ReactNode } from 'react'
import { connect } from '../../lib/browser.js'
import { MqttProvider, useTopic, type Throttle } from '../../lib/react/index.js'
import { config, mount, Widget, type Reading } from './page-kit.js'

const throttle: Throttle = config.throttle === 'false' ? false : config.throttle === 'frame' ? 'frame' : Number(config.throttle)
const client = connect(config.url)

function Sensor({ index }: { index: number }): ReactNode {
  const message = useTopic<Reading>(`${config.prefix}/${index}`, { codec: 'json', throttle })
  return h(Widget, { index, reading: message?.payload })
}

const sensors = Array.from({ length: config.widgets }, (_, index) => h(Sensor, { key: index, index }))
mount(h(MqttProvider, { client }, sensors))
