package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole configuration, read from the environment once at start
// (DESIGN §5.2). Defaults live here and nowhere else.
type Config struct {
	Addr        string
	DatabaseURL string
	// MigrateDatabaseURL is the schema owner's URL for migrations; empty
	// means DatabaseURL does both.
	MigrateDatabaseURL string
	DataDir            string
	SecretKey          []byte
	BaseURL            string
	Location           *time.Location
	CertFont           string
	// TrustedProxies are the load balancers (IPs or CIDRs) whose
	// X-Forwarded-For names the client; empty means the app faces clients
	// directly and ignores the header (anyone could forge it).
	TrustedProxies []string
	// PprofAddr, when set, serves net/http/pprof on a listener of its own
	// (profiling under load); empty: off.
	PprofAddr string
	Getenv    func(string) string // for TUOYU_CRON_<JOB> overrides
}

// LoadConfig reads and checks the configuration. In embedded mode a missing
// secret key is generated once into the data directory, with a warning.
func LoadConfig(getenv func(string) string, logger *slog.Logger) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	cfg := Config{
		Addr:               get("TUOYU_ADDR", ":8080"),
		DatabaseURL:        get("DATABASE_URL", ""),
		MigrateDatabaseURL: get("TUOYU_MIGRATE_DATABASE_URL", ""),
		DataDir:            get("TUOYU_DATA_DIR", "./var"),
		BaseURL:            strings.TrimRight(get("TUOYU_BASE_URL", "http://localhost:8080"), "/"),
		CertFont:           get("TUOYU_CERT_FONT", ""),
		PprofAddr:          get("TUOYU_PPROF_ADDR", ""),
		Getenv:             getenv,
	}
	for _, p := range strings.Split(get("TUOYU_TRUSTED_PROXIES", ""), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return cfg, fmt.Errorf("TUOYU_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range", p)
			}
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p)
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return cfg, fmt.Errorf("TUOYU_DATA_DIR: %w", err)
	}
	cfg.DataDir = abs
	loc, err := time.LoadLocation(get("TUOYU_TZ", "Asia/Shanghai"))
	if err != nil {
		return cfg, fmt.Errorf("TUOYU_TZ: %w", err)
	}
	cfg.Location = loc
	if cfg.MigrateDatabaseURL != "" && cfg.DatabaseURL == "" {
		// The embedded cluster has its own owner; a migration URL without
		// DATABASE_URL is a half-done configuration, not a request for it.
		return cfg, errors.New("TUOYU_MIGRATE_DATABASE_URL is set but DATABASE_URL is not: set both, or neither for the embedded database")
	}

	if raw := get("TUOYU_SECRET_KEY", ""); raw != "" {
		key, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(key) != 32 {
			return cfg, errors.New("TUOYU_SECRET_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
		}
		cfg.SecretKey = key
	} else if cfg.DatabaseURL != "" {
		return cfg, errors.New("TUOYU_SECRET_KEY is required when DATABASE_URL is set: it encrypts personal data, so it must be the same on every instance and kept safe")
	} else {
		key, err := devKey(cfg.DataDir)
		if err != nil {
			return cfg, err
		}
		logger.Warn("TUOYU_SECRET_KEY is not set: using a key generated into the data directory; set it in production", "file", filepath.Join(cfg.DataDir, "secret.key"))
		cfg.SecretKey = key
	}
	return cfg, nil
}

// devKey reads, or creates once, the embedded mode's secret key.
func devKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s is damaged: it must hold 32 bytes in base64", path)
		}
		return key, nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

// LogValue keeps the secret out of logs.
func (c Config) LogValue() slog.Value {
	mode := "embedded"
	if c.DatabaseURL != "" {
		mode = "external"
	}
	return slog.GroupValue(slog.String("addr", c.Addr), slog.String("database", mode),
		slog.String("data_dir", c.DataDir), slog.String("base_url", c.BaseURL),
		slog.String("tz", c.Location.String()), slog.String("secret_key", "[set]"))
}
