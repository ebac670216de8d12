#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fullscreen GTK 3 window with known content, for the portal tests on mutter's display.

The four quadrants are solid red (top left), green (top right), blue (bottom left) and white
(bottom right). The window redraws the same picture on every frame of the compositor's frame
clock (--static: only when GTK must), because mutter's screencast sends a frame only when the
screen changed: a static window would give one frame and then silence.

Prints "drawn WxH" once it has drawn at W x H after being made fullscreen.
"""
import argparse
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

# Keep in sync with portal-client.py's QUADRANTS: top left, top right, bottom left, bottom right.
COLOURS = ("#ff0000", "#00ff00", "#0000ff", "#ffffff")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--static", action="store_true", help="do not redraw every frame")
    args = ap.parse_args()

    # CSS backgrounds: solid fills by GTK's own renderer (no pycairo needed).
    css = "".join(f".q{i} {{ background-color: {c}; }}\n" for i, c in enumerate(COLOURS))
    provider = Gtk.CssProvider()
    provider.load_from_data(css.encode())

    win = Gtk.Window(title="castrelay test pattern")
    win.set_decorated(False)
    Gtk.StyleContext.add_provider_for_screen(win.get_screen(), provider,
                                             Gtk.STYLE_PROVIDER_PRIORITY_USER)
    grid = Gtk.Grid(row_homogeneous=True, column_homogeneous=True)
    for i in range(4):
        box = Gtk.Box(hexpand=True, vexpand=True)
        box.get_style_context().add_class(f"q{i}")
        grid.attach(box, i % 2, i // 2, 1, 1)
    win.add(grid)
    reported = set()

    def on_after_paint(clock):
        w, h = win.get_allocated_width(), win.get_allocated_height()
        fullscreen = win.get_window().get_state() & Gdk.WindowState.FULLSCREEN
        if fullscreen and (w, h) not in reported:
            reported.add((w, h))
            print(f"drawn {w}x{h}", flush=True)

    def on_realize(widget):
        widget.get_frame_clock().connect("after-paint", on_after_paint)

    def on_tick(widget, clock):
        widget.queue_draw()
        return GLib.SOURCE_CONTINUE

    win.connect("realize", on_realize)
    if not args.static:
        win.add_tick_callback(on_tick)
    win.connect("destroy", Gtk.main_quit)
    win.fullscreen()
    win.show_all()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, Gtk.main_quit)
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
