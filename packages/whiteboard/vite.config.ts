import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Builds the whiteboard (`index.html`) and the inspector (`inspect.html`) into
 * the server package, which serves them at `/` and `/inspect`.
 */
export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: '../server/public',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        inspect: fileURLToPath(new URL('inspect.html', import.meta.url)),
      },
    },
  },
});
