import { join } from 'node:path'

/**
 * The link this vitest project runs every suite over (vite.config.ts sets IOTPUBSUB_LINK per project; the Node
 * entry reads it as its default). Browser pages get it baked in through `browserAliases()`.
 */
export function linkUnderTest(): 'lean' | 'mqttjs' {
  return process.env.IOTPUBSUB_LINK === 'lean' ? 'lean' : process.env.IOTPUBSUB_LINK === 'mqttjs' ? 'mqttjs' : 'lean'
}

/** esbuild options for a test page: `iotpubsub` and `iotpubsub/shared` as the browser entries, defaulting to the link under test. */
export function browserAliases(repoDir: string): { alias: Record<string, string>; define: Record<string, string> } {
  return {
    alias: {
      iotpubsub: join(repoDir, 'test/support/browser-link-entry.ts'),
      'iotpubsub/shared': join(repoDir, 'test/support/browser-link-shared-entry.ts'),
    },
    define: { __LINK_UNDER_TEST__: JSON.stringify(linkUnderTest()) },
  }
}

/** A demo page URL with `?link=` set to the link under test (the dashboard reads it, demo/src/config.ts). */
export function withLink(pageUrl: string): string {
  const url = new URL(pageUrl)
  url.searchParams.set('link', linkUnderTest())
  return url.toString()
}
