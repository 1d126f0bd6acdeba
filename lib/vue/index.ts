/**
 * iotpubsub/vue: Vue 3 composables over an iotpubsub client, returning refs that follow a topic filter or
 * the connection status and let go of their subscription when the calling effect scope (the component)
 * ends. They use the public `MQTTClient` interface only; this entry imports nothing from the SDK at run time.
 *
 * @example
 * ```ts
 * // <script setup lang="ts">
 * import { useStatus, useTopic } from 'iotpubsub/vue'
 * const status = useStatus()
 * const temp = useTopic<{ celsius: number }>('rooms/kitchen/temp', { codec: 'json' })
 * ```
 */
export { MQTT_CLIENT, provideClient, useClient, useTopic, useMessages, useStatus, type TopicOptions, type MessagesOptions } from './composables.js'
export type { Throttle } from '../bindings/coalesced.js'
