// Package redisproc runs private redis-server processes on spare loopback ports, for the
// chaos run, the benchmarks and tests that need a Redis of their own settings.
package redisproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	Addr string
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// SparePort returns a loopback TCP port that was free a moment ago.
func SparePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start runs redis-server on a spare port with its data and log in dir, plus args (for
// example "--appendonly", "yes"), and waits until it answers.
func Start(dir string, args ...string) (*Server, error) {
	port, err := SparePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), port: port, dir: dir, args: args}
	return s, s.start()
}

func (s *Server) start() error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("redisproc: redis-server not found (apt-get install redis-server)")
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	args := append([]string{"--port", fmt.Sprint(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	s.cmd = exec.Command(bin, args...)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("redisproc: start redis-server: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	for range 200 {
		if rdb.Ping(context.Background()).Err() == nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("redisproc: redis-server on %s did not answer; see %s", s.Addr,
		filepath.Join(s.dir, "redis.log"))
}

// Restart shuts Redis down gracefully (it writes what it keeps) and starts it again on the
// same port and data.
func (s *Server) Restart() error {
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	_ = rdb.Shutdown(context.Background()).Err() // the connection drops as Redis exits
	_ = rdb.Close()
	_ = s.cmd.Wait()
	return s.start()
}

// Stop kills the server.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}
