// @hey-api/openapi-ts: a typed fetch client for escalade, from the published 3.1 document.
import { defineConfig } from "@hey-api/openapi-ts";

export default defineConfig({
  input: "./openapi/openapi.json",
  output: {
    path: "./clients/typescript/generated",
    // ES modules with explicit extensions, as Node and bundlers resolve them.
    module: { extension: ".js" },
  },
  plugins: ["@hey-api/client-fetch", "@hey-api/typescript", "@hey-api/sdk"],
});
