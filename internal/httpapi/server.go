// Package httpapi is the worker's HTTP side: the Asynq monitor with Prometheus metrics and
// health checks on one listener, meant for operators, and the MoMo callback endpoint on
// another, meant for MoMo.
//
// A callback is never trusted as a result: it only makes the worker ask MoMo for the
// transfer's status at once, instead of at its next scheduled poll.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// Timeouts of a Server.
const (
	// ShutdownTimeout is how long Run lets requests in flight finish once its context ends.
	ShutdownTimeout = 5 * time.Second
	readTimeout     = 15 * time.Second
	writeTimeout    = 30 * time.Second
	idleTimeout     = 60 * time.Second
	maxHeaderBytes  = 32 << 10
)

// Server is one of the worker's HTTP listeners.
type Server struct {
	name string
	ln   net.Listener
	srv  *http.Server
	log  zerolog.Logger
}

// Listen binds addr at once, so that a port in use stops the worker as it starts, and
// returns the Server that Run serves h on. name ("monitor", "callback") is for logs and
// errors.
func Listen(name, addr string, h http.Handler, log zerolog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %s: listen on %s: %w", name, addr, err)
	}
	return &Server{
		name: name,
		ln:   ln,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
		},
		log: log.With().Str("listener", name).Logger(),
	}, nil
}

// Addr returns the address the server listens on, with the port the system chose for ":0".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns http:// and Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Run serves until ctx is done, then lets requests in flight finish for ShutdownTimeout.
func (s *Server) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(s.ln) }()
	s.log.Info().Str("addr", s.Addr()).Msg("HTTP listener started")

	select {
	case err := <-served:
		return fmt.Errorf("httpapi: %s: %w", s.name, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("httpapi: %s: shut down: %w", s.name, err)
	}
	return nil
}

// Close stops the server at once, dropping requests in flight.
func (s *Server) Close() error {
	err := s.srv.Close()
	// Serve closes the listener; one that never served is closed here.
	if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}
