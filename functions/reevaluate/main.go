// Command reevaluate is the API Lambda: Plume's HTTP API behind API Gateway
// (HTTP API, payload 2.0). It only wires; internal/api is the program.
package main

import (
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/plume-evals/plume/internal/app"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, awsCfg := app.MustLoad(log)
	a, err := app.API(cfg, awsCfg, log)
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(withRequestID(a.Handler())).ProxyWithContext)
}

// withRequestID hands the Lambda request id to the API's logs.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lc, ok := lambdacontext.FromContext(r.Context()); ok {
			r.Header.Set("x-request-id", lc.AwsRequestID)
		}
		h.ServeHTTP(w, r)
	})
}
