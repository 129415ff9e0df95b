# tuoyu container image. Build:  docker build -t tuoyu .
# The image runs against an external PostgreSQL: set DATABASE_URL and
# TUOYU_SECRET_KEY (see docker-compose.yml). It has no PostgreSQL server of
# its own, so the embedded default database is not available in it.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces jung-kurt/gofpdf with the patched copy in third_party.
COPY third_party ./third_party
RUN go mod download
COPY . .
# Templates, assets, migrations and the OpenAPI file are embedded, so the
# binary is all the runtime stage needs.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tuoyu ./cmd/tuoyu

FROM debian:bookworm-slim
# ca-certificates: TLS to PostgreSQL or SMTP; tzdata: Asia/Shanghai for the
# scheduler; fonts-lxgw-wenkai: the CJK TrueType font of the certificates.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates tzdata fonts-lxgw-wenkai \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --user-group --home-dir /var/lib/tuoyu --shell /usr/sbin/nologin tuoyu \
	&& mkdir -p /var/lib/tuoyu \
	&& chown tuoyu:tuoyu /var/lib/tuoyu
COPY --from=build /out/tuoyu /usr/local/bin/tuoyu

ENV TUOYU_ADDR=:8080 \
	TUOYU_DATA_DIR=/var/lib/tuoyu \
	TUOYU_TZ=Asia/Shanghai \
	TUOYU_CERT_FONT=/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf
VOLUME /var/lib/tuoyu
WORKDIR /var/lib/tuoyu
USER 10001:10001
EXPOSE 8080

# bash's /dev/tcp instead of curl keeps the image small: it sends one
# HTTP/1.0 request for /healthz and looks for a 200 status line.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
	CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]

CMD ["tuoyu", "serve"]
