extension CallHandler: CallPreparing {}
