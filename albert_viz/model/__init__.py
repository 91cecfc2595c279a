"""The model: ModelSpec -> LoadedModel (bundled, local, hub, random), a forward pass -> Capture, devices, threads.

May import: albert_viz.assets only. Everything else in the library builds on this.
"""
