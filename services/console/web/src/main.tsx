// The console page's entry: Mantine's theme and styles around the app.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MantineProvider } from "@mantine/core";
import "@mantine/core/styles.css";
import "@mantine/charts/styles.css";
import { App } from "./App.tsx";

const root = document.getElementById("root");
if (root !== null) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider defaultColorScheme="light">
        <App />
      </MantineProvider>
    </StrictMode>,
  );
}
