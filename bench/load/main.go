// Command load is the load test's round-robin: a reverse proxy that sends
// each request to the next of the app instances in turn and records, per
// endpoint (method and path with ids folded), every answer's status and
// latency. bench/load.sh puts wrk in front of it; on SIGTERM it writes the
// report (a table and a line per endpoint for the script) and exits.
//
//	go run ./bench/load -listen 127.0.0.1:18400 -backends http://127.0.0.1:18401,http://127.0.0.1:18402 -report out.txt
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18400", "address wrk sends to")
	backends := flag.String("backends", "", "comma-separated base URLs of the app instances")
	report := flag.String("report", "", "file for the report (default stdout)")
	flag.Parse()
	var proxies []*httputil.ReverseProxy
	for _, b := range strings.Split(*backends, ",") {
		u, err := url.Parse(strings.TrimSpace(b))
		if err != nil || u.Host == "" {
			log.Fatalf("load: bad backend %q", b)
		}
		p := httputil.NewSingleHostReverseProxy(u)
		p.Transport = &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				// wrk closed the connection (its run ended): no answer
				// was due, so this is not the app's failure.
				w.WriteHeader(statusClientGone)
				return
			}
			log.Printf("load: %s %s: %v", r.Method, r.URL.Path, err)
			w.WriteHeader(http.StatusBadGateway)
		}
		proxies = append(proxies, p)
	}
	if len(proxies) == 0 {
		log.Fatal("load: -backends is required")
	}
	rec := &recorder{byKey: map[string]*endpoint{}, started: time.Now()}
	var next atomic.Uint64
	srv := &http.Server{Addr: *listen, ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			proxies[next.Add(1)%uint64(len(proxies))].ServeHTTP(sw, r)
			rec.add(r.Method+" "+fold(r.URL.Path), sw.status, time.Since(start))
		})}
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	_ = srv.Close()
	out := os.Stdout
	if *report != "" {
		f, err := os.Create(*report)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		out = f
	}
	rec.write(out)
}

// statusClientGone records a request whose client left before the answer
// (nginx's 499); the report counts it apart from answers and failures.
const statusClientGone = 499

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

var (
	ids   = regexp.MustCompile(`/[0-9]+(/|$)`)
	codes = regexp.MustCompile(`^/api/v1/verify/[^/]+$`)
)

// fold names an endpoint: numeric path segments become {id}, a verify
// code {code}.
func fold(path string) string {
	if codes.MatchString(path) && path != "/api/v1/verify/pdf" && path != "/api/v1/verify/key" {
		return "/api/v1/verify/{code}"
	}
	for ids.MatchString(path) {
		path = ids.ReplaceAllString(path, "/{id}$1")
	}
	return path
}

type endpoint struct {
	statuses map[int]int
	millis   []float64
}

type recorder struct {
	mu      sync.Mutex
	byKey   map[string]*endpoint
	started time.Time
	first   time.Time
}

func (r *recorder) add(key string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first.IsZero() {
		r.first = time.Now()
	}
	e := r.byKey[key]
	if e == nil {
		e = &endpoint{statuses: map[int]int{}}
		r.byKey[key] = e
	}
	e.statuses[status]++
	e.millis = append(e.millis, float64(d.Microseconds())/1000)
}

// write prints a table for people, then one "endpoint" line per endpoint
// and status for the script: "status <method> <path> <code> <count>".
func (r *recorder) write(out *os.File) {
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := time.Since(r.first).Seconds()
	keys := make([]string, 0, len(r.byKey))
	for k := range r.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(out, "| endpoint | requests | per s | p50 ms | p99 ms | 2xx | 4xx | failures | client gone |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var lines []string
	for _, k := range keys {
		e := r.byKey[k]
		slices.Sort(e.millis)
		var ok, client, failed, gone int
		for code, n := range e.statuses {
			switch {
			case code == statusClientGone:
				gone += n
			case code >= 200 && code < 300:
				ok += n
			case code >= 400 && code < 500:
				client += n
			default:
				failed += n
			}
			lines = append(lines, fmt.Sprintf("status %s %d %d", k, code, n))
		}
		fmt.Fprintf(out, "| `%s` | %d | %.1f | %.1f | %.1f | %d | %d | %d | %d |\n", k, len(e.millis),
			float64(len(e.millis))/secs, quantile(e.millis, 0.50), quantile(e.millis, 0.99), ok, client, failed, gone)
	}
	sort.Strings(lines)
	fmt.Fprintln(out)
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}
