// goserver: a static HTTP server for the bind interception tests. It binds
// its own address like any unmodified Go program (net.Listen), serves the
// routes demoapp serves, and shuts down gracefully on SIGTERM or SIGINT.
// Standard library only; built with CGO_ENABLED=0, so statically linked.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	addr     = flag.String("addr", "127.0.0.1:8080", "address to listen on (\":PORT\" binds [::]:PORT dual-stack)")
	udpEcho  = flag.String("udp-echo", "", "also run a UDP echo server bound to this address")
	tcp0     = flag.Bool("tcp0", false, "also serve on 127.0.0.1:0 (a port the kernel picks)")
	shutIdx  = flag.Int("shutdown-listener", -1, "the worker with this BATON_WORKER calls shutdown(SHUT_RDWR) on its listener once serving")
	rebind   = flag.Int("rebind", 0, "listen and close this many times before the listener that serves")
	storm    = flag.Bool("storm", false, "while binding, flood the binding thread with SIGURG (tgkill)")
	usr1     = flag.Bool("listen-on-usr1", false, "on SIGUSR1, listen on -addr once more and serve there too")
	drainMax = flag.Duration("drain", 30*time.Second, "longest graceful shutdown")
)

// fdOf returns the descriptor number behind a listener or packet conn.
func fdOf(c syscall.Conn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// listen binds addr like any Go program; with -rebind it does so many times
// over (closing all but the last) on one locked thread, and with -storm a
// goroutine keeps signalling that very thread, so that binds are
// interrupted and restarted while the master handles them.
func listen() (net.Listener, int64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var sent int64
	stop := make(chan struct{})
	done := make(chan struct{})
	if *storm {
		pid, tid := os.Getpid(), syscall.Gettid()
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if syscall.Tgkill(pid, tid, syscall.SIGURG) == nil {
					atomic.AddInt64(&sent, 1)
				}
			}
		}()
	} else {
		close(done)
	}
	var ln net.Listener
	var err error
	for i := 0; i <= *rebind; i++ {
		if ln, err = net.Listen("tcp", *addr); err != nil {
			break
		}
		if i < *rebind {
			ln.Close()
		}
	}
	close(stop)
	<-done
	return ln, atomic.LoadInt64(&sent), err
}

func main() {
	flag.Parse()
	worker, _ := strconv.Atoi(os.Getenv("BATON_WORKER"))
	if os.Getenv("BATON_WORKER") == "" {
		worker = -1
	}
	ln, sent, err := listen()
	if err != nil {
		fmt.Fprintf(os.Stderr, "goserver: %v\n", err)
		os.Exit(1)
	}
	lnfd := fdOf(ln.(*net.TCPListener))
	fmt.Fprintf(os.Stderr, "goserver: pid %d listening on %s fd %d (binds %d, signals sent while binding %d)\n",
		os.Getpid(), ln.Addr(), lnfd, *rebind+1, sent)

	info := map[string]interface{}{"pid": os.Getpid(), "worker": worker,
		"listen_fd": lnfd, "listen_addr": ln.Addr().String(),
		"storm_signals": sent}
	var extra []net.Listener
	if *tcp0 {
		l0, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(os.Stderr, "goserver: tcp0: %v\n", err)
			os.Exit(1)
		}
		info["tcp0_addr"] = l0.Addr().String()
		info["tcp0_fd"] = fdOf(l0.(*net.TCPListener))
		extra = append(extra, l0)
	}
	if *udpEcho != "" {
		pc, err := net.ListenPacket("udp", *udpEcho)
		if err != nil {
			fmt.Fprintf(os.Stderr, "goserver: udp: %v\n", err)
			os.Exit(1)
		}
		info["udp_addr"] = pc.LocalAddr().String()
		info["udp_fd"] = fdOf(pc.(*net.UDPConn))
		go func() {
			buf := make([]byte, 2048)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(buf[:n], from)
			}
		}()
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, os.Getpid())
	})
	mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(info)
	})
	srv := &http.Server{Handler: mux}
	for _, l := range extra {
		go srv.Serve(l)
	}

	if *shutIdx >= 0 && *shutIdx == worker {
		// What some servers do to wake their own accept loop at exit:
		// on a socket shared with other processes it would stop
		// the listener for all of them.
		rc, _ := ln.(*net.TCPListener).SyscallConn()
		var serr error
		rc.Control(func(fd uintptr) {
			serr = syscall.Shutdown(int(fd), syscall.SHUT_RDWR)
		})
		fmt.Fprintf(os.Stderr, "goserver: pid %d: shutdown(fd %d, SHUT_RDWR) returned %v\n",
			os.Getpid(), lnfd, serr)
	}

	if *usr1 {
		// A bind long after start: whoever spawned this process must
		// still be there to serve it.
		u := make(chan os.Signal, 1)
		signal.Notify(u, syscall.SIGUSR1)
		go func() {
			for range u {
				l, err := net.Listen("tcp", *addr)
				fd := -1
				if err == nil {
					fd = fdOf(l.(*net.TCPListener))
					go srv.Serve(l)
				}
				fmt.Fprintf(os.Stderr, "goserver: pid %d: USR1: listening again: fd %d, error %v\n",
					os.Getpid(), fd, err)
			}
		}()
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case s := <-sig:
		ctx, cancel := context.WithTimeout(context.Background(), *drainMax)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "goserver: pid %d: shutdown after %v: %v\n", os.Getpid(), s, err)
			os.Exit(1)
		}
		os.Exit(0)
	case err := <-served:
		fmt.Fprintf(os.Stderr, "goserver: pid %d: serve: %v\n", os.Getpid(), err)
		os.Exit(1)
	}
}
