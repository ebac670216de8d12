#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in ScreenCast portal client and the four-quadrant pixel check of the GNOME tests.

  portal-client.py portal --token UUID [--sessions N] [--frames N] [--timeout S]
                   [--end close|compositor] [--cursor-mode 1|2|4]
      Opens N (default 2) ScreenCast sessions one after the other through
      org.freedesktop.portal.ScreenCast, each with persist_mode 2 and the restore token
      (CreateSession, SelectSources, Start, OpenPipeWireRemote), captures --frames frames from the
      portal's PipeWire fd with gst-launch-1.0 (pipewiresrc fd=... path=NODE), checks them, and
      closes the session (org.freedesktop.portal.Session.Close), or with --end compositor prints
      "awaiting: Closed" and waits for the portal's Session.Closed (the test then ends the
      screencast on mutter's side). Every Start must answer without a chooser within --timeout
      seconds and return the same restore token.

  portal-client.py capture --target NODE [--frames N] [--size WxH] [--timeout S]
                   [--tolerance T] [--progress N]
      Captures from the node with that node.name on the normal PipeWire connection and checks.

The check (gnome-client.py draws the picture): the frame has the expected size, and every pixel
of the inner 90% of each quadrant (red, green, blue, white from top left to bottom right) has
exactly its colour; a 64x64 square at the centre is left out (an embedded cursor may be there).
"exact" counts the frames whose every pixel is right.

Prints "key: value" lines (session, start_ms, node, size, token, first_frame_ms, frames, fps,
max_gap_ms: the longest wait between two frames, good, exact) and
exits 0 when every frame of every session passed, 1 otherwise, 2 for bad usage.
"""
import argparse
import os
import subprocess
import sys
import time
import uuid

# Keep in sync with gnome-client.py's COLOURS.
QUADRANTS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255))
CURSOR_BOX = 64


def log(msg):
    print(f"# {msg}", flush=True)


def expected_frame(w, h):
    hw, hh = w // 2, h // 2
    top = bytes(QUADRANTS[0]) * hw + bytes(QUADRANTS[1]) * (w - hw)
    bottom = bytes(QUADRANTS[2]) * hw + bytes(QUADRANTS[3]) * (w - hw)
    return top * hh + bottom * (h - hh)


def region_rows(w, h):
    """Per checked row: (y, [(x0, x1)...]) spans of the inner 90% of each quadrant."""
    hw, hh = w // 2, h // 2
    mx, my = hw // 20, hh // 20
    cx0, cx1 = w // 2 - CURSOR_BOX // 2, w // 2 + CURSOR_BOX // 2
    cy0, cy1 = h // 2 - CURSOR_BOX // 2, h // 2 + CURSOR_BOX // 2
    rows = []
    for y in list(range(my, hh - my)) + list(range(hh + my, h - my)):
        spans = [(mx, hw - mx), (hw + mx, w - mx)]
        if cy0 <= y < cy1:
            cut = []
            for x0, x1 in spans:
                if x0 < cx0:
                    cut.append((x0, min(x1, cx0)))
                if x1 > cx1:
                    cut.append((max(x0, cx1), x1))
            spans = cut
        rows.append((y, spans))
    return rows


def check_frame(frame, expected, rows, stride, tolerance=0):
    """Returns (good, exact, first bad (x, y, got, want) or None)."""
    if frame == expected:
        return True, True, None
    if tolerance:
        # Every 8th pixel of every 8th row: pure Python, about 15k pixels a frame.
        for y, spans in rows[::8]:
            for x0, x1 in spans:
                for x in range(x0, x1, 8):
                    o = y * stride + x * 3
                    got, want = frame[o:o + 3], expected[o:o + 3]
                    if max(abs(a - b) for a, b in zip(got, want)) > tolerance:
                        return False, False, (x, y, tuple(got), tuple(want))
        return True, False, None
    for y, spans in rows:
        for x0, x1 in spans:
            a, b = y * stride + x0 * 3, y * stride + x1 * 3
            if frame[a:b] != expected[a:b]:
                for x in range(x0, x1):
                    o = y * stride + x * 3
                    if frame[o:o + 3] != expected[o:o + 3]:
                        return False, False, (x, y, tuple(frame[o:o + 3]),
                                              tuple(expected[o:o + 3]))
    return True, False, None


def capture(source_args, frames, size, timeout_s, pass_fds=(), tolerance=0, progress=0):
    """Runs gst-launch-1.0 and checks the frames; returns True when all passed."""
    w, h = size
    frame_bytes = w * h * 3
    cmd = ["gst-launch-1.0", "-q", "pipewiresrc", *source_args, "always-copy=true",
           f"num-buffers={frames}", "!", "videoconvert", "!",
           f"video/x-raw,format=RGB,width={w},height={h}", "!", "fdsink", "fd=1"]
    log("capturing: " + " ".join(cmd))
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            pass_fds=pass_fds)
    expected, rows = expected_frame(w, h), region_rows(w, h)
    got = good = exact = 0
    first_bad = None
    times = []
    deadline = t0 + timeout_s
    try:
        while got < frames:
            if time.monotonic() > deadline:
                log(f"no frame {got + 1} within {timeout_s} s")
                break
            buf = bytearray()
            while len(buf) < frame_bytes:
                chunk = proc.stdout.read(frame_bytes - len(buf))
                if not chunk:
                    break
                buf += chunk
            if len(buf) < frame_bytes:
                break
            times.append(time.monotonic())
            got += 1
            ok, ex, bad = check_frame(bytes(buf), expected, rows, w * 3, tolerance)
            if progress and got % progress == 0:
                print(f"progress: {got}", flush=True)
            good += ok
            exact += ex
            if bad and not first_bad:
                first_bad = (got,) + bad
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            _, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(f"first_frame_ms: {int((times[0] - t0) * 1000) if times else -1}")
    print(f"frames: {got}")
    print(f"fps: {fps:.1f}")
    gaps = [b - a for a, b in zip(times, times[1:])]
    print(f"max_gap_ms: {int(max(gaps) * 1000) if gaps else -1}")
    print(f"good: {good}")
    print(f"exact: {exact}")
    if first_bad:
        n, x, y, g, e = first_bad
        print(f"first_bad: frame {n} pixel {x},{y} got {g} expected {e}")
    if proc.returncode not in (0, None, -15) or got < frames:
        log(f"gst-launch-1.0 exited with {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return got == frames and good == frames


class Portal:
    """Just enough of org.freedesktop.portal.ScreenCast, with dbus-python on a GLib loop."""

    def __init__(self, timeout_s):
        import dbus
        from dbus.mainloop.glib import DBusGMainLoop
        from gi.repository import GLib

        self.dbus, self.GLib, self.timeout_s = dbus, GLib, timeout_s
        self.bus = dbus.SessionBus(mainloop=DBusGMainLoop())
        obj = self.bus.get_object("org.freedesktop.portal.Desktop",
                                  "/org/freedesktop/portal/desktop")
        self.sc = dbus.Interface(obj, "org.freedesktop.portal.ScreenCast")
        self.props = dbus.Interface(obj, "org.freedesktop.DBus.Properties")
        self.sender = self.bus.get_unique_name()[1:].replace(".", "_")
        self.closed = []
        self.bus.add_signal_receiver(lambda *a, **kw: self.closed.append(str(kw["path"])),
                                     signal_name="Closed",
                                     dbus_interface="org.freedesktop.portal.Session",
                                     path_keyword="path")

    def prop(self, name):
        return int(self.props.Get("org.freedesktop.portal.ScreenCast", name))

    def request(self, what, method, *args):
        """Calls METHOD(*args, options) with a fresh handle_token; returns the Response results
        or raises RuntimeError."""
        token = "cr" + uuid.uuid4().hex
        path = f"/org/freedesktop/portal/desktop/request/{self.sender}/{token}"
        result = {}
        loop = self.GLib.MainLoop()

        def on_response(code, results):
            result["code"], result["results"] = int(code), results
            loop.quit()

        match = self.bus.add_signal_receiver(on_response, signal_name="Response",
                                             dbus_interface="org.freedesktop.portal.Request",
                                             path=path)
        t0 = time.monotonic()
        try:
            *head, options = args
            options = dict(options, handle_token=token)
            handle = method(*head, options)
            if str(handle) != path:
                raise RuntimeError(f"{what}: request handle {handle}, expected {path}")
            expired = []

            def on_timeout():
                expired.append(True)
                loop.quit()
                return False

            timer = self.GLib.timeout_add(int(self.timeout_s * 1000), on_timeout)
            loop.run()
            if not expired:
                self.GLib.source_remove(timer)
        finally:
            match.remove()
        ms = int((time.monotonic() - t0) * 1000)
        if "code" not in result:
            raise RuntimeError(f"{what}: no Response within {self.timeout_s} s (a chooser "
                               "dialog waiting for a click? is the grant in the permission "
                               "store?)")
        if result["code"] != 0:
            raise RuntimeError(f"{what}: Response {result['code']} (1 cancelled, 2 other)")
        log(f"{what}: Response 0 after {ms} ms")
        return result["results"], ms

    def session(self, token, cursor_mode):
        dbus = self.dbus
        res, _ = self.request("CreateSession", self.sc.CreateSession,
                              {"session_handle_token": "cr" + uuid.uuid4().hex})
        handle = str(res["session_handle"])
        opts = {"types": dbus.UInt32(1), "multiple": False,
                "cursor_mode": dbus.UInt32(cursor_mode), "persist_mode": dbus.UInt32(2)}
        if token:
            opts["restore_token"] = token
        self.request("SelectSources", self.sc.SelectSources, dbus.ObjectPath(handle), opts)
        res, start_ms = self.request("Start", self.sc.Start, dbus.ObjectPath(handle), "", {})
        streams = [(int(node), {str(k): v for k, v in props.items()})
                   for node, props in res.get("streams", [])]
        new_token = str(res.get("restore_token", ""))
        fd = self.sc.OpenPipeWireRemote(dbus.ObjectPath(handle), {}).take()
        return handle, streams, new_token, fd, start_ms

    def wait_closed(self, handle):
        """Runs the loop until the portal emitted Session.Closed for HANDLE or the timeout."""
        loop = self.GLib.MainLoop()
        deadline = time.monotonic() + self.timeout_s

        def check():
            if handle in self.closed or time.monotonic() > deadline:
                loop.quit()
                return False
            return True

        self.GLib.timeout_add(20, check)
        loop.run()
        return handle in self.closed

    def close(self, handle):
        obj = self.bus.get_object("org.freedesktop.portal.Desktop", handle)
        self.dbus.Interface(obj, "org.freedesktop.portal.Session").Close()


def size_arg(text):
    w, h = text.split("x")
    return int(w), int(h)


def run_portal(args):
    portal = Portal(args.timeout)
    cursor_modes = portal.prop("AvailableCursorModes")
    # Hidden (1) when offered: the cursor must not cover the pattern.
    cursor_mode = args.cursor_mode or (1 if cursor_modes & 1 else 2 if cursor_modes & 2 else 4)
    print(f"source_types: {portal.prop('AvailableSourceTypes')}")
    print(f"cursor_modes: {cursor_modes} (using {cursor_mode})")
    ok = True
    token = args.token
    for n in range(1, args.sessions + 1):
        print(f"session: {n}")
        t0 = time.monotonic()
        try:
            handle, streams, new_token, fd, start_ms = portal.session(token, cursor_mode)
        except Exception as e:  # noqa: BLE001 - report any D-Bus or portal failure
            print(f"error: {e}")
            return 1
        print(f"start_ms: {start_ms}")
        print(f"streams: {len(streams)}")
        print(f"token: {new_token}")
        if len(streams) != 1:
            return 1
        node, props = streams[0]
        size = tuple(int(v) for v in props.get("size", (0, 0)))
        print(f"node: {node}")
        print(f"size: {size[0]}x{size[1]}")
        if size != args.size:
            log(f"stream size {size}, expected {args.size}")
            ok = False
        if token and new_token != token:
            log(f"restore token changed from {token} to {new_token}")
            ok = False
        token = new_token or token
        ok = capture([f"fd={fd}", f"path={node}"], args.frames, args.size, args.timeout,
                     pass_fds=(fd,)) and ok
        os.close(fd)
        if args.end == "close":
            portal.close(handle)
            log(f"closed {handle}")
        else:
            # Someone else ends it (gnome_stop_screencasts): the portal must say Closed.
            print("awaiting: Closed", flush=True)
            t1 = time.monotonic()
            if not portal.wait_closed(handle):
                print(f"error: no Session.Closed within {args.timeout} s")
                return 1
            print(f"closed_ms: {int((time.monotonic() - t1) * 1000)}")
        print(f"session_ms: {int((time.monotonic() - t0) * 1000)}")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("portal")
    p.add_argument("--token", default="")
    p.add_argument("--sessions", type=int, default=2)
    p.add_argument("--end", choices=("close", "compositor"), default="close",
                   help="end each session with Session.Close, or wait for its Closed signal")
    p.add_argument("--cursor-mode", type=int, choices=(1, 2, 4), default=0,
                   help="1 hidden, 2 embedded, 4 metadata (default: hidden when offered)")
    c = sub.add_parser("capture")
    c.add_argument("--target", required=True)
    c.add_argument("--tolerance", type=int, default=0,
                   help="largest channel error allowed (then a sampled check; default exact)")
    c.add_argument("--progress", type=int, default=0, metavar="N",
                   help="print 'progress: COUNT' every N frames")
    for s in (p, c):
        s.add_argument("--frames", type=int, default=30)
        s.add_argument("--size", type=size_arg, default=(1280, 720))
        s.add_argument("--timeout", type=float, default=20)
    args = ap.parse_args()
    if args.mode == "portal":
        return run_portal(args)
    return 0 if capture([f"target-object={args.target}"], args.frames, args.size,
                        args.timeout, tolerance=args.tolerance, progress=args.progress) else 1


if __name__ == "__main__":
    sys.exit(main())
