import { defineConfig, type Plugin } from 'vite';

/**
 * The in-chat (MCP Apps) player: one self-contained HTML file, since a host renders the resource's text as the
 * whole page in a sandboxed frame, with no way to fetch anything beside it. The script is inlined into the page.
 */
function inlineScript(): Plugin {
  return {
    name: 'earshot-inline-script',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const page = Object.values(bundle).find((file) => file.fileName.endsWith('.html'));
      if (!page || page.type !== 'asset') throw new Error('the player page was not built');
      let html = String(page.source);
      for (const [name, file] of Object.entries(bundle)) {
        if (file.type !== 'chunk') continue;
        const tag = new RegExp(`<script type="module" crossorigin src="[^"]*${file.fileName}"></script>`);
        if (!tag.test(html)) throw new Error(`no script tag for ${file.fileName}`);
        // `</script` inside the code would end the element early.
        const code = file.code.replaceAll('</script', '<\\/script');
        html = html.replace(tag, () => `<script type="module">${code}</script>`);
        delete bundle[name];
      }
      page.source = html;
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: { conditions: ['@earshot/source'] },
  plugins: [inlineScript()],
  build: {
    outDir: 'dist',
    // The console's build runs first into the same folder.
    emptyOutDir: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    cssCodeSplit: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: 'mcp-app/player.html',
      output: { inlineDynamicImports: true },
    },
  },
});
