// The flood page on mqtt-react-hooks 3.1.0 with MQTT.js: the same 50 widgets, each `useSubscription` on its
// own topic, the JSON payload parsed in the component (the library hands over the payload as a string).
import { Connector, useSubscription } from 'mqtt-react-hooks'
import { createElement as h, useMemo, type ReactNode } from 'react'
import { config, mount, Widget, type Reading } from './page-kit.js'

// Module constants: the library's effects depend on the identity of its options.
const OPTIONS = { keepalive: 60 }

function Sensor({ index }: { index: number }): ReactNode {
  const { message } = useSubscription(`${config.prefix}/${index}`)
  const text = message?.message
  const reading = useMemo(() => (typeof text === 'string' ? (JSON.parse(text) as Reading) : undefined), [text])
  return h(Widget, { index, reading })
}

const sensors = Array.from({ length: config.widgets }, (_, index) => h(Sensor, { key: index, index }))
mount(h(Connector, { brokerUrl: config.url, options: OPTIONS, children: sensors }))
