// The documentation site (VitePress). `npm run docs` serves it, `npm run docs:build` builds it into
// docs/.vitepress/dist; both first generate the API reference (docs/api/, from the published .d.ts files:
// docs/scripts/api.ts), whose sidebar is read here.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig, type DefaultTheme } from 'vitepress'

const apiSidebarFile = fileURLToPath(new URL('../api/typedoc-sidebar.json', import.meta.url))
const apiSidebar: DefaultTheme.SidebarItem[] = existsSync(apiSidebarFile) ? (JSON.parse(readFileSync(apiSidebarFile, 'utf8')) as DefaultTheme.SidebarItem[]) : []

const guide: DefaultTheme.SidebarItem[] = [
  { text: 'Introduction', items: [{ text: 'What it is', link: '/guide/introduction' }, { text: 'Install and requirements', link: '/guide/install' }] },
  {
    text: 'Getting started',
    items: [
      { text: 'Node', link: '/start/node' },
      { text: 'Browser (Vite)', link: '/start/browser' },
      { text: 'React', link: '/start/react' },
      { text: 'Vue', link: '/start/vue' },
      { text: 'Svelte', link: '/start/svelte' },
      { text: 'Angular', link: '/start/angular' },
    ],
  },
  {
    text: 'Guides',
    items: [
      { text: 'The client', link: '/guide/client' },
      { text: 'Browser dashboards', link: '/guide/dashboards' },
      { text: 'Node services', link: '/guide/node-services' },
      { text: 'Connecting anywhere', link: '/guide/connecting' },
      { text: 'Delivery guarantees', link: '/guide/delivery' },
      { text: 'The outbox', link: '/guide/outbox' },
      { text: 'Scaling out', link: '/guide/scaling-out' },
      { text: 'The broker kit', link: '/guide/broker-kit' },
      { text: 'Performance', link: '/guide/performance' },
      { text: 'Troubleshooting', link: '/guide/troubleshooting' },
    ],
  },
  {
    text: 'Migrating',
    items: [
      { text: 'From MQTT.js', link: '/migrate/mqttjs' },
      { text: 'From ngx-mqtt', link: '/migrate/ngx-mqtt' },
      { text: 'From mqtt-react-hooks', link: '/migrate/mqtt-react-hooks' },
    ],
  },
  { text: 'Project', items: [{ text: 'Examples', link: '/examples' }, { text: 'Changelog', link: '/changelog' }, { text: 'Development', link: '/development' }] },
]

export default defineConfig({
  title: 'iotpubsub',
  description: 'MQTT topics as ref-counted RxJS Observables: one reactive API for browser dashboards and Node services.',
  lang: 'en',
  // The site works from any folder of a static server (the tests serve it from a loopback port).
  base: '/',
  srcExclude: ['scripts/**', '**/README.md'],
  lastUpdated: false,
  // Offline: no font or analytics requests; the default theme's fonts are bundled.
  head: [
    ['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
    ['meta', { name: 'theme-color', content: '#3c8772' }],
  ],
  themeConfig: {
    logo: '/favicon.svg',
    nav: [
      { text: 'Guide', link: '/guide/introduction', activeMatch: '^/(guide|start|migrate)/' },
      { text: 'API', link: '/api/', activeMatch: '^/api/' },
      { text: 'Examples', link: '/examples' },
      { text: 'Changelog', link: '/changelog' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/' }, ...apiSidebar],
      '/': guide,
    },
    outline: { level: [2, 3] },
    search: { provider: 'local' },
  },
  markdown: {
    // The code blocks are checked by test/docs (tsc, and the runnable ones against Mosquitto).
    lineNumbers: false,
  },
})
