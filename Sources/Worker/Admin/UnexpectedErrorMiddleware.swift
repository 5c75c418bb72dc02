import Hummingbird
import Logging
import PostgresNIO
import Shared

/// Turns what a handler did not expect into a JSON answer (and the router's own
/// errors into the API's error shape): 503 when the database
/// cannot be reached or does not answer in time (the caller may retry), 500 otherwise, with the detail in the
/// log and not in the answer.
struct UnexpectedErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AdminError {
            throw error
        } catch let error as HTTPError {
            // The router's own answers (no such route, method not allowed) in the same shape.
            throw AdminError(
                status: error.status, code: error.status == .notFound ? "not_found" : "bad_request",
                message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error as PSQLError where error.serverInfo == nil {
            context.logger.warning("admin API: database unreachable", metadata: ["error": "\(error.code)"])
            throw AdminError.databaseUnavailable
        } catch let error as DatabaseAttempt.TimedOut {
            // No answer in time (``PostgresClient/boundedRows(_:timeout:logger:)``).
            context.logger.warning("admin API: database unreachable", metadata: ["error": "\(error)"])
            throw AdminError.databaseUnavailable
        } catch {
            context.logger.error("admin API request failed", metadata: ["error": "\(String(reflecting: error))"])
            throw AdminError(status: .internalServerError, code: "internal_error", message: "the request failed")
        }
    }
}
