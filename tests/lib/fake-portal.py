#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A fake xdg-desktop-portal ScreenCast for castrelay's tests (python3-dbus, GLib main loop).

It owns org.freedesktop.portal.Desktop on the session bus it is given (DBUS_SESSION_BUS_ADDRESS)
and serves org.freedesktop.portal.ScreenCast (version 4) at /org/freedesktop/portal/desktop,
with Request objects that emit Response and Session objects with Close and Closed.

A "dialog" is shown when Start comes without a valid restore token: its outcome is the --dialog
option, or the one set by SetNextDialog for the next dialog only. The fake issues a token after
each successful Start with persist_mode 2 and remembers the ones it issued (single use, as the
portal documents); a token it did not issue, or any token with --forget-tokens, is refused:
Start answers 2. (A real portal may show a dialog instead; castrelay handles both.)

Control interface org.castrelay.FakePortal at the same path:
  CloseAll()          emit Closed on every session and drop them
  SetNextDialog(s)    "accept", "cancel", "fail" or "hold" (never answered) for the next dialog
  ForgetTokens()      refuse every token issued so far
  Vanish()            drop every session silently and leave the bus; come back after 200 ms
  SetLegacyHandles(b) ignore handle_token, as portals before 0.9 did: Request paths the client
                      cannot predict, and Response 200 ms late so that it can follow them
  Stats() -> a{sv}    counters: sessions, dialogs, starts, tokens_received, tokens_valid,
                      tokens_refused, closes (Session.Close calls), remotes; strings:
                      last_token (issued), last_received_token
For example: gdbus call --session -d org.freedesktop.portal.Desktop \\
	-o /org/freedesktop/portal/desktop -m org.castrelay.FakePortal.Stats
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import uuid

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS_NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
SCREENCAST = "org.freedesktop.portal.ScreenCast"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
CONTROL = "org.castrelay.FakePortal"
PROPERTIES = "org.freedesktop.DBus.Properties"

OK, CANCELLED, OTHER = 0, 1, 2


def log(msg):
    print("fake-portal: " + msg, flush=True)


def escaped(sender):
    return sender[1:].replace(".", "_")


class Request(dbus.service.Object):
    legacy = False

    def __init__(self, bus, sender, token):
        if Request.legacy:
            token = "legacy" + uuid.uuid4().hex
        self.path = "%s/request/%s/%s" % (PATH, escaped(sender), token)
        super().__init__(bus, self.path)

    @dbus.service.signal(REQUEST, signature="ua{sv}")
    def Response(self, code, results):
        pass

    @dbus.service.method(REQUEST)
    def Close(self):
        self.remove_from_connection()

    def respond(self, code, results):
        # After the method's reply, as a real portal does.
        def emit():
            self.Response(dbus.UInt32(code), dbus.Dictionary(results, signature="sv"))
            self.remove_from_connection()
            return False
        if Request.legacy:
            GLib.timeout_add(200, emit)
        else:
            GLib.idle_add(emit)


class Session(dbus.service.Object):
    def __init__(self, portal, sender, token):
        self.portal = portal
        self.path = "%s/session/%s/%s" % (PATH, escaped(sender), token)
        self.options = {}
        self.keep = []  # the other ends of socketpairs handed out
        super().__init__(portal.bus, self.path)

    @dbus.service.method(SESSION)
    def Close(self):
        self.portal.stats["closes"] += 1
        log("session %s closed by the client" % self.path)
        self.drop()

    @dbus.service.signal(SESSION, signature="a{sv}")
    def Closed(self, details):
        pass

    def drop(self):
        self.portal.sessions.pop(self.path, None)
        for s in self.keep:
            s.close()
        self.remove_from_connection()


class Portal(dbus.service.Object):
    def __init__(self, bus, args):
        super().__init__(bus, PATH)
        self.bus = bus
        self.args = args
        self.sessions = {}
        self.issued = set()
        self.next_dialog = None
        self.stats = {k: 0 for k in ("sessions", "dialogs", "starts", "tokens_received",
                                     "tokens_valid", "tokens_refused", "closes", "remotes")}
        self.last_token = ""
        self.last_received_token = ""
        self.name = dbus.service.BusName(BUS_NAME, bus, do_not_queue=True)

    def session(self, handle):
        s = self.sessions.get(str(handle))
        if s is None:
            raise dbus.exceptions.DBusException("no session " + str(handle),
                                                name="org.freedesktop.portal.Error.NotFound")
        return s

    # --- org.freedesktop.portal.ScreenCast ---

    @dbus.service.method(SCREENCAST, in_signature="a{sv}", out_signature="o",
                         sender_keyword="sender")
    def CreateSession(self, options, sender):
        req = Request(self.bus, sender, options.get("handle_token", "t%d" % id(options)))
        s = Session(self, sender, options.get("session_handle_token", uuid.uuid4().hex))
        self.sessions[s.path] = s
        self.stats["sessions"] += 1
        req.respond(OK, {"session_handle": dbus.String(s.path)})
        return req.path

    @dbus.service.method(SCREENCAST, in_signature="oa{sv}", out_signature="o",
                         sender_keyword="sender")
    def SelectSources(self, handle, options, sender):
        s = self.session(handle)
        s.options = dict(options)
        req = Request(self.bus, sender, options.get("handle_token", uuid.uuid4().hex))
        req.respond(OK, {})
        return req.path

    @dbus.service.method(SCREENCAST, in_signature="osa{sv}", out_signature="o",
                         sender_keyword="sender")
    def Start(self, handle, parent_window, options, sender):
        s = self.session(handle)
        req = Request(self.bus, sender, options.get("handle_token", uuid.uuid4().hex))
        self.stats["starts"] += 1
        token = str(s.options.get("restore_token", ""))
        if token:
            self.stats["tokens_received"] += 1
            self.last_received_token = token
            if token in self.issued and not self.args.forget_tokens:
                self.stats["tokens_valid"] += 1
                self.issued.discard(token)
                log("Start with a valid token: no dialog")
                req.respond(OK, self.started(s))
            else:
                self.stats["tokens_refused"] += 1
                log("Start with a token it does not know: refused")
                req.respond(OTHER, {})
            return req.path
        self.stats["dialogs"] += 1
        outcome = self.next_dialog or self.args.dialog
        self.next_dialog = None
        log("dialog shown: " + outcome)
        if outcome == "hold":
            return req.path  # the user has not answered (yet)
        if outcome == "accept":
            req.respond(OK, self.started(s))
        else:
            req.respond(CANCELLED if outcome == "cancel" else OTHER, {})
        return req.path

    def started(self, s):
        node_id, serial = self.node()
        w, h = self.args.size
        props = {"size": dbus.Struct((dbus.Int32(w), dbus.Int32(h)), signature="ii"),
                 "source_type": dbus.UInt32(1)}
        if serial:
            props["pipewire-serial"] = dbus.UInt64(serial)
        results = {"streams": dbus.Array([dbus.Struct((dbus.UInt32(node_id),
                                                      dbus.Dictionary(props, signature="sv")))],
                                         signature="(ua{sv})")}
        if int(s.options.get("persist_mode", 0)) == 2:
            token = str(uuid.uuid4())
            self.issued.add(token)
            self.last_token = token
            results["restore_token"] = dbus.String(token)
        return results

    def node(self):
        if not self.args.node_name:
            return self.args.node_id, self.args.serial
        out = subprocess.run(["pw-dump"], capture_output=True, text=True, timeout=10).stdout
        for obj in json.loads(out or "[]"):
            props = (obj.get("info") or {}).get("props") or {}
            if props.get("node.name") == self.args.node_name:
                return obj["id"], int(props.get("object.serial", 0))
        log("no node named %s: handing out node %d" % (self.args.node_name, self.args.node_id))
        return self.args.node_id, self.args.serial

    @dbus.service.method(SCREENCAST, in_signature="oa{sv}", out_signature="h")
    def OpenPipeWireRemote(self, handle, options):
        s = self.session(handle)
        self.stats["remotes"] += 1
        runtime = os.environ.get("PIPEWIRE_RUNTIME_DIR") or os.environ.get("XDG_RUNTIME_DIR", "")
        path = os.path.join(runtime, os.environ.get("PIPEWIRE_REMOTE", "pipewire-0"))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError:
            # No PipeWire (unit tests): any connected socket will do.
            sock.close()
            sock, peer = socket.socketpair()
            s.keep.append(peer)
        fd = dbus.types.UnixFd(sock)  # a dup
        sock.close()
        return fd

    # --- properties ---

    def props(self):
        return {"AvailableSourceTypes": dbus.UInt32(3), "AvailableCursorModes": dbus.UInt32(7),
                "version": dbus.UInt32(4)}

    @dbus.service.method(PROPERTIES, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.props()[prop]

    @dbus.service.method(PROPERTIES, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return self.props() if interface == SCREENCAST else {}

    # --- control ---

    @dbus.service.method(CONTROL)
    def CloseAll(self):
        for s in list(self.sessions.values()):
            log("closing session " + s.path)
            s.Closed({})
            s.drop()

    @dbus.service.method(CONTROL, in_signature="s")
    def SetNextDialog(self, outcome):
        if outcome not in ("accept", "cancel", "fail", "hold"):
            raise dbus.exceptions.DBusException("SetNextDialog: '%s' is not accept, cancel, "
                                                "fail or hold" % outcome)
        self.next_dialog = str(outcome)

    @dbus.service.method(CONTROL)
    def ForgetTokens(self):
        self.issued.clear()

    @dbus.service.method(CONTROL, in_signature="b")
    def SetLegacyHandles(self, legacy):
        Request.legacy = bool(legacy)

    @dbus.service.method(CONTROL)
    def Vanish(self):
        for s in list(self.sessions.values()):
            s.drop()
        # BusName releases the name when the last reference goes (CPython: at once).
        self.name = None
        log("left the bus")

        def back():
            self.name = dbus.service.BusName(BUS_NAME, self.bus, do_not_queue=True)
            log("back on the bus")
            return False
        GLib.timeout_add(200, back)

    @dbus.service.method(CONTROL, out_signature="a{sv}")
    def Stats(self):
        stats = {k: dbus.UInt32(v) for k, v in self.stats.items()}
        stats["last_token"] = dbus.String(self.last_token)
        stats["last_received_token"] = dbus.String(self.last_received_token)
        return stats


def size(text):
    w, _, h = text.partition("x")
    return int(w), int(h)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--node-id", type=int, default=42, help="node id Start returns (default 42)")
    p.add_argument("--node-name", help="return the node of this node.name (looked up with "
                   "pw-dump at each Start)")
    p.add_argument("--serial", type=int, default=0, help="pipewire-serial (default: none)")
    p.add_argument("--size", type=size, default=(1920, 1080), help="stream size WxH")
    p.add_argument("--dialog", choices=("accept", "cancel", "fail", "hold"), default="accept",
                   help="what the user does in a dialog (default accept)")
    p.add_argument("--forget-tokens", action="store_true", help="refuse every restore token")
    args = p.parse_args()

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    # The harness stops the bus and us together: leave on SIGTERM with status 0, not on the
    # disconnection with 1.
    bus.set_exit_on_disconnect(False)
    Portal(bus, args)
    log("owns %s on %s" % (BUS_NAME, os.environ.get("DBUS_SESSION_BUS_ADDRESS", "?")))
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
