import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export interface Tracing {
  /** Where spans go (for the worker's first line). */
  endpoint: string;
  /** Adds Temporal's OpenTelemetry interceptors to a worker and its workflow bundle. */
  plugin: OpenTelemetryPlugin;
  /** Sends the spans still buffered (bounded by the exporter's timeout) and stops. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing of workflows and activities, on when the standard OTLP endpoint variable is set
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, OTLP over HTTP), so it is
 * configured the way every OpenTelemetry SDK is: headers, timeout and service name from OTEL_* too.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? 'muse-worker' });
  // The exporter reads the endpoint, headers and timeout from the same variables.
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  // Activity spans come from the global tracer; workflow spans leave the sandbox through a sink to the same processor.
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // A context manager carries the span an activity's headers name into the activity's own span.
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  return {
    endpoint,
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor }),
    shutdown: () => provider.shutdown(),
  };
}
