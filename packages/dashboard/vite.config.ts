import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built to dist/, which the API server serves at `/`. In development, API calls go to a local server.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/v1': 'http://127.0.0.1:7070' } },
});
