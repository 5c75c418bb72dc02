/// Every operation of the admin API, in the order the OpenAPI document lists them.
enum AdminRoutes {
    static func all(_ environment: AdminEnvironment) -> [AdminRoute] {
        StationRoutes(environment: environment).routes
            + CredentialRoutes(environment: environment).routes
            + StationEventRoutes(environment: environment).routes
            + CertificateRoutes(environment: environment).routes
            + CommandRoutes(environment: environment).routes
            + TransactionRoutes(environment: environment).routes
            + MeterValueRoutes(environment: environment).routes
            + IdTagRoutes(environment: environment).routes
            + OpenAPIRoute().routes
    }
}
