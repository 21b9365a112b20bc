// Builds the console page into web/dist (served by the console's own server at /). In development,
// `npx vite --config services/console/web/vite.config.ts` proxies the APIs to a running console.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: { outDir: `${root}dist`, emptyOutDir: true, assetsDir: "assets", chunkSizeWarningLimit: 2_000 },
  server: { proxy: { "/api": "http://127.0.0.1:8084", "/v1": "http://127.0.0.1:8084" } },
});
