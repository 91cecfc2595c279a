"""Build the bundled ALBERT-tiny: corpus from packaged text, distillation from a real teacher, MLM + SOP."""
